// The preview of a post's form, without reloading the page.
//
// Without this module the form's *Preview* button posts the form, which comes back
// with the preview and the text kept. Here the same button asks /api/preview for the
// HTML the server's renderer makes of the text (the very HTML the post would store)
// and shows it in the form's preview region; a refusal is shown beside the box, as the
// server-rendered form shows it. The HTML is the renderer's, already safe.

import { _ } from "./i18n.js";

function showError(box, message) {
  const label = box.closest("label");
  let note = document.getElementById("body-error");
  if (message === null) {
    note?.remove();
    box.removeAttribute("aria-invalid");
    box.removeAttribute("aria-describedby");
    return;
  }
  if (!note) {
    note = document.createElement("span");
    note.className = "field-error";
    note.id = "body-error";
    label.insertBefore(note, box);
  }
  note.textContent = message;
  box.setAttribute("aria-invalid", "true");
  box.setAttribute("aria-describedby", "body-error");
}

async function preview(form, button) {
  const box = form.querySelector("textarea[name=body]");
  const region = form.querySelector(".preview");
  const token = form.querySelector("input[name=csrf_token]")?.value || "";
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ body: box.value }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(box, answer?.error?.message || _("The preview could not be made; try again."));
      box.focus();
      return;
    }
    showError(box, null);
    region.querySelector(".body").innerHTML = answer.html; // the server's renderer made it
    region.hidden = false;
  } catch {
    showError(box, _("The preview could not be made; try again."));
  } finally {
    button.disabled = false;
  }
}

for (const form of document.querySelectorAll("form[data-preview]")) {
  const button = form.querySelector("button[name=preview]");
  if (!button || !form.querySelector(".preview")) continue;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    preview(form, button);
  });
}
