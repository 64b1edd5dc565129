// Cloudflare's script renders challenges present when the page loads; a form
// that htmx swaps in later (after an error, say) gets its challenge here.
(function () {
  "use strict";

  document.addEventListener("htmx:afterSwap", function () {
    if (!window.turnstile) {
      return;
    }
    document.querySelectorAll(".cf-turnstile:empty").forEach(function (element) {
      window.turnstile.render(element);
    });
  });
})();
