/* The visit page: saves the form into the outbox (outbox.js), shows what is queued, conflicting or
 * rejected, and registers the service worker so the page opens offline. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }

  function payloadFrom(form) {
    var fd = new FormData(form);
    var checklist = {};
    var missing = [];
    form.querySelectorAll("[data-aspect]").forEach(function (div) {
      var code = div.getAttribute("data-aspect");
      var v = fd.get("aspect_" + code);
      if (!v) { missing.push(div.querySelector(".aspect-name").textContent.replace(/^\d+\.\s*/, "")); return; }
      checklist[code] = { ok: v === "ok", note: (fd.get("note_" + code) || "").trim() };
    });
    return {
      missing: missing,
      payload: {
        household_id: parseInt(fd.get("household_id") || "0", 10),
        visited_on: fd.get("visited_on"),
        checklist: checklist,
        has_risk: fd.get("has_risk") === "yes",
        risk_types: fd.getAll("risk_types"),
        note: (fd.get("note") || "").trim(),
      },
    };
  }

  function stateLabel(i) {
    if (i.state === "conflict") return '<span class="tag bad">冲突，待您确认</span>';
    if (i.state === "rejected") return '<span class="tag bad">被退回</span>';
    return '<span class="tag">待发送</span>';
  }

  function render(items) {
    var n = items.length;
    document.querySelectorAll("[data-outbox-count]").forEach(function (el) { el.textContent = String(n); });
    var list = $("outbox-list");
    if (!list) return;
    $("outbox").hidden = n === 0;
    list.innerHTML = items.map(function (i) {
      var h = '<li class="ob-' + i.state + '" data-key="' + esc(i.key) + '"><div>' + stateLabel(i) + " " + esc(i.label) + "</div>";
      if (i.message) h += '<div class="muted ob-msg">' + esc(i.message) + "</div>";
      if (i.state === "conflict" && i.existing) {
        h += '<div class="ob-existing">已有记录：' + esc(i.existing.visited_on) + " " + esc(i.existing.visitor) +
          (i.existing.has_risk ? "（有风险）" : "（无风险）") + " " + esc(i.existing.note || "") + "</div>" +
          '<button type="button" data-act="keep">两条都保留</button> ';
      }
      if (i.state === "rejected") h += '<button type="button" data-act="edit">修改后重交</button> ';
      if (i.state !== "pending") h += '<button type="button" class="secondary" data-act="drop">放弃这条</button>';
      return h + "</li>";
    }).join("");
    window.fangpinOutbox.sent().then(function (sent) {
      sent.sort(function (a, b) { return a.at < b.at ? 1 : -1; });
      $("sent").hidden = sent.length === 0;
      $("sent-list").innerHTML = sent.slice(0, 10).map(function (s) {
        return "<li>" + esc(s.label) + ' <span class="tag">已保存，记录号 ' + esc(s.visit_id) + "</span></li>";
      }).join("");
    });
  }

  function netState() {
    var el = $("net-state");
    if (!el) return;
    el.textContent = navigator.onLine ? "在线" : "离线";
    el.className = navigator.onLine ? "tag" : "tag bad";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var ob = window.fangpinOutbox;
    var cfg = window.FANGPIN_OUTBOX || {};
    if (!ob || !window.indexedDB) return; // the form posts normally
    var form = $("visit-form");
    ob.onChange(render);
    netState();
    window.addEventListener("online", netState);
    window.addEventListener("offline", netState);
    $("sync-now").addEventListener("click", function () { ob.sync(); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var r = payloadFrom(form);
      var err = $("form-error");
      var problems = [];
      if (!r.payload.household_id) problems.push("请选择走访户");
      if (!r.payload.visited_on) problems.push("请填写走访日期");
      if (r.missing.length) problems.push("请逐项填写九个方面，缺少：" + r.missing.join("、"));
      if (problems.length) { err.textContent = problems.join("；"); err.hidden = false; return; }
      err.hidden = true;
      var sel = $("household_id");
      var label = sel.options[sel.selectedIndex].text.replace(/^【.*?】/, "") + " " + r.payload.visited_on;
      ob.add(r.payload, label).then(function () {
        var d = $("visited_on").value;
        form.reset();
        $("visited_on").value = d;
        return ob.sync();
      });
    });
    $("outbox-list").addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[data-act]");
      if (!btn) return;
      var key = btn.closest("li").getAttribute("data-key");
      var act = btn.getAttribute("data-act");
      if (act === "keep") ob.keepBoth(key);
      if (act === "drop" && window.confirm("放弃后这条走访不会发送，确定吗？")) ob.remove(key);
      if (act === "edit") {
        ob.get(key).then(function (item) {
          var p = item.payload;
          $("household_id").value = String(p.household_id);
          $("visited_on").value = p.visited_on;
          Object.keys(p.checklist).forEach(function (code) {
            var c = p.checklist[code];
            var radio = form.querySelector('input[name="aspect_' + code + '"][value="' + (c.ok ? "ok" : "problem") + '"]');
            if (radio) radio.checked = true;
            var note = form.querySelector('input[name="note_' + code + '"]');
            if (note) note.value = c.note || "";
          });
          form.querySelector('input[name="has_risk"][value="' + (p.has_risk ? "yes" : "no") + '"]').checked = true;
          form.querySelectorAll('input[name="risk_types"]').forEach(function (cb) { cb.checked = p.risk_types.indexOf(cb.value) >= 0; });
          $("note").value = p.note || "";
          var err = $("form-error");
          err.textContent = "退回原因：" + item.message;
          err.hidden = false;
          return ob.remove(key);
        }).then(function () { form.scrollIntoView(); });
      }
    });
    if ("serviceWorker" in navigator && cfg.swUrl) {
      navigator.serviceWorker.register(cfg.swUrl, { scope: cfg.scope }).catch(function () { /* still works online */ });
    }
    ob.sync();
  });
})();
