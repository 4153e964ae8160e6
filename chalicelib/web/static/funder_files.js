// « Fichiers » of the funders' space: the upload with a progress bar, and the list refreshed by
// polling. Without this script the page still works: the form posts straight to S3 and S3 sends
// the browser back; « Actualiser » reloads the list.
(function () {
  "use strict";

  var form = document.getElementById("envoi");
  var status = document.getElementById("etat-envoi");
  var progress = document.getElementById("progression");
  var bar = document.getElementById("barre");

  function say(text, error) {
    if (!status) return;
    status.textContent = text;
    status.className = error ? "fr-error-text" : "fr-text--sm";
  }

  function send(file, answer) {
    var data = new FormData();
    Object.keys(answer.fields).forEach(function (name) {
      data.append(name, answer.fields[name]);
    });
    data.append("file", file);
    var request = new XMLHttpRequest();
    request.open("POST", answer.url);
    progress.hidden = false;
    request.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round((event.loaded / event.total) * 100);
      bar.value = percent;
      bar.textContent = percent + " %";
      if (percent % 25 === 0) say("Envoi en cours : " + percent + " %.");
    });
    request.addEventListener("load", function () {
      if (request.status >= 200 && request.status < 300) {
        bar.value = 100;
        say("Fichier envoyé : il apparaît ci-dessous dès sa réception.");
        awaiting = AWAIT_POLLS;
        window.setTimeout(refresh, POLL_MS / 3);
      } else if (request.responseText.indexOf("EntityTooLarge") >= 0) {
        say("Le fichier dépasse la taille permise.", true);
      } else {
        say("L’envoi a été refusé. Rechargez la page et réessayez.", true);
      }
    });
    request.addEventListener("error", function () {
      say("L’envoi a échoué : vérifiez votre connexion et réessayez.", true);
    });
    request.send(data);
  }

  if (form && window.FormData && window.XMLHttpRequest) {
    form.addEventListener("submit", function (event) {
      var input = document.getElementById("fichier");
      var file = input.files && input.files[0];
      if (!file) return; // the browser's own "required" message
      event.preventDefault();
      var body = new URLSearchParams();
      body.append("csrf", form.getAttribute("data-csrf"));
      body.append("file_name", file.name);
      fetch(form.getAttribute("data-prepare"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
      })
        .then(function (response) {
          if (!response.ok) throw new Error("Envoi impossible : rechargez la page.");
          return response.json().then(function (answer) {
            if (!response.ok || answer.error) throw new Error(answer.error || "Envoi impossible.");
            return answer;
          });
        })
        .then(function (answer) {
          send(file, answer);
        })
        .catch(function (error) {
          say(error.message, true);
        });
    });
  }

  var table = document.getElementById("fichiers");
  var follow = document.getElementById("suivi-fichiers");
  // After an upload, S3 → SQS → ingestion records the file a few seconds later: the list is
  // polled until it shows up (then the page reloads to show its row), for two minutes at most.
  var POLL_MS = 3000;
  var AWAIT_POLLS = 40;
  var awaiting = 0;

  function describe(file) {
    if (file.status === "traité") {
      return file.status + " — " + (file.counts.lines_read || 0) + " lignes lues, " +
        (file.counts.lines_rejected || 0) + " rejetées";
    }
    return file.reason ? file.status + " — " + file.reason : file.status;
  }

  function refresh() {
    if (!follow) return;
    fetch(follow.getAttribute("data-status"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (answer) {
        var known = {};
        if (table) {
          table.querySelectorAll("tr[data-file]").forEach(function (row) {
            known[row.getAttribute("data-file")] = row;
          });
        }
        var pending = false;
        var arrived = false;
        answer.files.forEach(function (file) {
          var row = known[file.id];
          if (!row) { arrived = true; return; }
          var cell = row.querySelector(".etat");
          var text = describe(file);
          if (cell.textContent !== text) cell.textContent = text;
          if (!file.finished) pending = true;
        });
        if (arrived) {
          // A new file: the reloaded page shows its whole row, and polls it if unfinished.
          window.location.reload();
          return;
        }
        if (awaiting > 0) awaiting -= 1;
        if (pending || awaiting > 0) window.setTimeout(refresh, POLL_MS);
      })
      .catch(function () {
        // Signed out or offline: « Actualiser » still works.
      });
  }

  if (table && table.querySelector("tr[data-file]")) {
    var unfinished = Array.prototype.some.call(table.querySelectorAll(".etat"), function (cell) {
      return /^(reçu|en cours)/.test(cell.textContent.trim());
    });
    if (unfinished) window.setTimeout(refresh, POLL_MS);
  }
})();
