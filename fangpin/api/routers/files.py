"""OpenAPI descriptions of file downloads (binary bodies) shared by the routers."""

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def binary_response(*content_types: str) -> dict:
    return {
        "responses": {
            200: {
                "description": "文件",
                "content": {ct: {"schema": {"type": "string", "format": "binary"}} for ct in content_types},
            }
        }
    }
