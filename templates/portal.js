// The portal's one script, inlined in every page and allowed by its hash in the Content-Security-Policy.
// Every page works without it; it only spares a person a click or a confusing address.
(function () {
  "use strict";
  var root = document.documentElement;
  // A page answered by the sign-in callback: show the link the person opened, not the spent callback URL.
  if (root.dataset.address) {
    try { history.replaceState(null, "", root.dataset.address); } catch (ignored) { /* another origin */ }
  }
  // The preparing page: check /status every few seconds and open Studio once the profile is ready.
  var check = document.getElementById("check-now");
  var status = document.getElementById("preparing-status");
  if (!check || !status || !window.fetch) { return; }
  var seconds = Number(check.dataset.every) || 3;
  function poll() {
    // "manual": a redirect means ready; following it here would mint a Studio URL nobody opens.
    fetch(check.href, {redirect: "manual", credentials: "same-origin", cache: "no-store"}).then(function (answer) {
      if (answer.status === 202) {
        status.textContent = status.dataset.still;
        setTimeout(poll, seconds * 1000);
      } else {
        status.textContent = status.dataset.opening;
        window.location.assign(check.href);
      }
    }, function () { setTimeout(poll, seconds * 1000); });
  }
  setTimeout(poll, seconds * 1000);
})();
