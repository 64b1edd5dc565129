// Behaviour the contact form needs beyond htmx's attributes: focus moves to
// what changed, failures show a short message instead of an error page, and
// a status poll that keeps failing gives up.
(function () {
  "use strict";

  var MAX_POLL_ERRORS = 3;
  var pollErrors = 0;

  function showFormProblem(form, text) {
    var alert = form.querySelector(".form-alert--network");
    if (!alert) {
      alert = document.createElement("p");
      alert.className = "form-alert form-alert--network";
      alert.setAttribute("role", "alert");
      form.insertBefore(alert, form.firstChild);
    }
    alert.textContent = text;
  }

  function stopPolling(status, text) {
    var still = document.createElement("p");
    still.id = status.id;
    still.className = status.className;
    still.dataset.status = status.dataset.status;
    still.textContent = text;
    status.replaceWith(still);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "contact-form") {
      return;
    }
    var invalid = document.querySelector("#contact-form [aria-invalid='true']");
    var confirmation = document.querySelector("#contact-form.confirmation");
    if (invalid) {
      invalid.focus();
    } else if (confirmation) {
      confirmation.focus();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "contact-status" && event.detail.successful) {
      pollErrors = 0;
    }
  });

  function onFailure(event) {
    var elt = event.detail.elt;
    if (!elt) {
      return;
    }
    if (elt.id === "contact-form") {
      showFormProblem(
        elt,
        "Sorry, the message could not be sent just now. Your text is still here; please try again in a moment."
      );
    } else if (elt.id === "contact-status") {
      pollErrors += 1;
      if (pollErrors >= MAX_POLL_ERRORS) {
        stopPolling(
          elt,
          "We cannot check the status right now. Your message is saved; reload this page later to see it."
        );
      }
    }
  }

  document.addEventListener("htmx:responseError", onFailure);
  document.addEventListener("htmx:sendError", onFailure);
  document.addEventListener("htmx:timeout", onFailure);
})();
