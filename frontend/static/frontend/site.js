// Behaviour the contact form needs beyond htmx's attributes: focus moves to
// what changed, an unchanged status is not announced again, failures show a
// short message instead of an error page, and a status poll that keeps
// failing gives up calmly.
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
      alert.tabIndex = -1;
      form.insertBefore(alert, form.firstElementChild);
    }
    alert.textContent = text;
    // The submit button was disabled during the request, which took the
    // focus away; the message is the natural place to resume from.
    alert.focus();
  }

  function stopPolling(status, text) {
    var still = document.createElement("p");
    still.id = status.id;
    still.className = status.className + " status--paused";
    still.dataset.status = status.dataset.status;
    still.dataset.statusUrl = status.dataset.statusUrl;
    still.textContent = text;
    status.replaceWith(still);
  }

  function sameStatus(current, responseText) {
    var template = document.createElement("template");
    template.innerHTML = responseText.trim();
    var next = template.content.firstElementChild;
    return (
      next !== null &&
      next.hasAttribute("hx-get") &&
      next.dataset.status === current.dataset.status &&
      next.textContent.replace(/\s+/g, " ") ===
        current.textContent.replace(/\s+/g, " ")
    );
  }

  // Replacing the status line with an identical one would make screen
  // readers announce it again on every poll; only a change is swapped in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (
      target &&
      target.id === "contact-status" &&
      event.detail.shouldSwap &&
      sameStatus(target, event.detail.xhr.responseText)
    ) {
      event.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "contact-form") {
      return;
    }
    var invalid = document.querySelector("#contact-form [aria-invalid='true']");
    var confirmation = document.querySelector("#contact-form.confirmation");
    var alert = document.querySelector("#contact-form .form-alert");
    if (invalid) {
      invalid.focus();
    } else if (confirmation) {
      confirmation.focus();
    } else if (alert) {
      // Not sent, with nothing to correct: a rate limit or an expired token.
      alert.focus();
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

  // With DEBUG on, django-htmx shows any 403 as a whole error page; the
  // form refused for its CSRF token is meant to be swapped in like a 422.
  // This listener sits below the document, so it runs first.
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "contact-form" && event.detail.xhr.status === 403) {
      event.stopPropagation();
    }
  });

  document.addEventListener("htmx:responseError", onFailure);
  document.addEventListener("htmx:sendError", onFailure);
  document.addEventListener("htmx:timeout", onFailure);
})();
