import logging

from fangpin.core import masking


def test_masks():
    assert masking.mask_id_number("410506197501200080") == "410506********0080"
    assert masking.mask_phone("13812345678") == "138****5678"
    assert masking.mask_name("张三丰") == "张*丰"
    assert masking.mask_name("李四") == "李*"


def test_log_filter_masks_pii(caplog):
    logger = logging.getLogger("fangpin.test")
    logger.addFilter(masking.PiiLogFilter())
    with caplog.at_level(logging.WARNING):
        logger.warning("person %s phone %s", "410506197501200080", "13812345678")
    assert "410506197501200080" not in caplog.text and "13812345678" not in caplog.text
    assert "410506********0080" in caplog.text
