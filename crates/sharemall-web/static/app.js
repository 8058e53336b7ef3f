// sharemall 分享购: a little progressive enhancement. Every page works without it.
(function () {
  "use strict";
  // Quantity stepper on the product page.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".step");
    if (!b) return;
    var input = b.parentNode.querySelector("input");
    var max = parseInt(input.max || "99", 10);
    var v = (parseInt(input.value, 10) || 1) + parseInt(b.dataset.step, 10);
    input.value = Math.max(1, Math.min(max, v));
  });
  // Choosing a SKU shows its price and caps the quantity at its stock.
  document.addEventListener("change", function (e) {
    var r = e.target;
    if (!r.matches || !r.matches("input[type=radio][name=sku]")) return;
    var price = document.getElementById("price");
    if (price) price.textContent = r.dataset.price;
    var from = document.getElementById("price-from");
    if (from) from.hidden = true;
    var qty = document.getElementById("qty");
    var stock = parseInt(r.dataset.stock, 10);
    if (qty && stock > 0) { qty.max = Math.min(99, stock); if (+qty.value > stock) qty.value = stock; }
  });
  // Share sheet: copy the link or the 口令 (clipboard API, or select-and-copy where it is missing).
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) return;
    var field = document.getElementById(b.dataset.copy);
    if (!field) return;
    var done = function () {
      var label = b.textContent;
      b.textContent = b.dataset.copied || label;
      setTimeout(function () { b.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else {
      field.select();
      try { document.execCommand("copy"); done(); } catch (err) { /* the text stays selected to copy by hand */ }
    }
  });
  // The parcel card's print button; the page's print style leaves only the card, at A6.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
  // Group countdowns: the server rendered the time left; tick it down each second.
  var timers = document.querySelectorAll("[data-remaining-ms]");
  if (timers.length) {
    var start = Date.now();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var elapsed = Date.now() - start;
      for (var i = 0; i < timers.length; i++) {
        var left = Math.max(0, Math.floor((parseInt(timers[i].dataset.remainingMs, 10) - elapsed) / 1000));
        timers[i].textContent = pad(Math.floor(left / 3600)) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
      }
    };
    setInterval(tick, 1000);
  }
  // A button marked data-once can be pressed once (the server also de-duplicates).
  document.addEventListener("submit", function (e) {
    var btn = e.submitter;
    if (btn && btn.hasAttribute("data-once")) {
      setTimeout(function () { btn.disabled = true; }, 0);
    }
  });
})();
