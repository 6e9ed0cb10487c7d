/* Draw every chart whose options the server wrote next to it (json_script), on first load
   and whenever htmx swaps in a panel; a click on a bar or slice opens the list behind it. */
(function () {
  "use strict";
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var option = JSON.parse(source.textContent);
      var chart = echarts.init(el, el.dataset.dark ? "dark" : null, { renderer: "canvas" });
      if (el.dataset.dark) option.backgroundColor = "transparent";
      chart.setOption(option);
      chart.on("click", function (params) {
        var data = params.data || {};
        if (data.url) window.location.href = data.url;
      });
      el.dataset.drawn = "1";
    });
  }
  // One listener for every chart on the page, whatever htmx has swapped in or out.
  window.addEventListener("resize", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
  // A panel that failed to load says so instead of "正在统计……" for ever.
  document.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (target && target.classList.contains("panel")) {
      var note = target.querySelector("p");
      if (note) note.textContent = "统计失败，请稍后刷新页面重试。";
    }
  });
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!window.echarts) return;
    event.target.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
