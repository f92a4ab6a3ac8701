/* 统计分析 dashboard: draws the charts from the JSON the server rendered (#chart-data) with the locally
 * served Apache ECharts; clicking a bar opens the list of households behind it. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("chart-data");
    if (!el || !window.echarts) return;
    var d = JSON.parse(el.textContent);
    var period = "&start=" + d.start + "&end=" + d.end;
    var font = { fontFamily: '"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif' };
    function drill(code, town) { window.location = d.drill + "?code=" + encodeURIComponent(code) + "&township=" + (town || "") + period; }
    function chart(id, option, onClick) {
      var node = document.getElementById(id);
      if (!node) return;
      var c = echarts.init(node, null, { renderer: "svg" });
      option.textStyle = font;
      option.tooltip = option.tooltip || { trigger: "axis" };
      option.grid = option.grid || { left: 40, right: 12, top: 56, bottom: 60, containLabel: true };
      var empty = !option.series.some(function (s) { return s.data.some(function (v) { return v !== null && v !== 0; }); });
      if (empty) {  // an empty period says so, instead of bare axes
        option.graphic = { type: "text", left: "center", top: "middle", style: { text: "本期无数据", fill: "#888", fontSize: 14 } };
        node.setAttribute("data-empty", "1");
      }
      c.setOption(option);
      if (onClick) c.on("click", onClick);
      window.addEventListener("resize", function () { c.resize(); });
      node.setAttribute("data-ready", "1");
    }
    var townAxis = { type: "category", data: d.towns, axisLabel: { interval: 0, rotate: d.towns.length > 6 ? 40 : 0 } };
    chart("ch-category", {
      title: { text: "期末监测对象（户，按类别）", textStyle: { fontSize: 14 } },
      legend: { top: 24 }, xAxis: townAxis, yAxis: { type: "value", minInterval: 1 },
      series: d.category.map(function (s) { return { name: s.name, type: "bar", stack: "c", data: s.data, code: s.code }; }),
    }, function (p) { drill(d.category[p.seriesIndex].code, d.codes[p.dataIndex]); });
    chart("ch-flows", {
      title: { text: "本期新识别、风险消除与兜底（户）", textStyle: { fontSize: 14 } },
      legend: { top: 24 }, xAxis: townAxis, yAxis: { type: "value", minInterval: 1 },
      series: d.flows.map(function (s) { return { name: s.name, type: "bar", data: s.data }; }),
    }, function (p) { drill(d.flows[p.seriesIndex].code, d.codes[p.dataIndex]); });
    chart("ch-rates", {
      title: { text: "消除占比、措施覆盖、超期、走访覆盖（%）", textStyle: { fontSize: 14 } },
      legend: { top: 24, type: "scroll" }, xAxis: townAxis, yAxis: { type: "value", max: 100 },
      series: d.rates.map(function (s) { return { name: s.name, type: "bar", data: s.data }; }),
    });
    chart("ch-income", {
      title: { text: "监测户人均纯收入（相对监测线 " + d.income.lines.join("/") + " 元）", textStyle: { fontSize: 14 } },
      xAxis: { type: "category", data: d.income.bands, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: "户数", type: "bar", data: d.income.counts, itemStyle: { color: "#b71c1c" } }],
    }, function (p) { window.location = d.drill + "?code=income&band=" + p.dataIndex + period; });
    function stacked(id, title, block) {
      chart(id, {
        title: { text: title, textStyle: { fontSize: 14 } }, legend: { top: 24, type: "scroll" },
        xAxis: { type: "category", data: block.labels, axisLabel: { interval: 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: block.outcomes.map(function (o) {
          return { name: o, type: "bar", stack: "o", data: block.labels.map(function (l) { return block.values[l][o] || 0; }) };
        }),
      });
    }
    stacked("ch-channels", "本期线索：来源与办理情况（条）", d.channels);
    stacked("ch-departments", "本期部门预警：部门与办理情况（条）", d.departments);
    chart("ch-duration", {
      title: { text: "识别用时中位数（天，线索到县级审定）", textStyle: { fontSize: 14 } },
      xAxis: townAxis, yAxis: { type: "value" },
      series: [{ name: "天", type: "bar", data: d.duration }],
    });
  });
})();
