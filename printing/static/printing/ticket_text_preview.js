// The ticket-text form: the sample receipt redrawn while staff type (400 ms after the last
// keystroke, so a sentence is one request, not one per character).
"use strict";

(() => {
  const box = document.getElementById("ticket-preview");
  const form = box && box.closest("form");
  if (!form) return;
  const result = document.getElementById("ticket-preview-result");
  const FIELDS = ["shop_name", "address_line", "footer_lines", "pickup_prefix"];
  let timer = null;

  function labelOf(name) {
    const label = form.querySelector(`label[for="id_${name}"]`);
    return label ? label.textContent.replace(/[:：]\s*$/, "").trim() : "";
  }

  function preview() {
    const fields = new URLSearchParams();
    for (const name of FIELDS) {
      const input = form.elements.namedItem(name);
      if (input) fields.append(name, input.value);
    }
    return paperPreview.load(result, box.dataset.url, {
      fields, failed: box.dataset.failed, alt: box.dataset.alt, labelOf,
    });
  }

  form.addEventListener("input", (event) => {
    if (!FIELDS.includes(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  });
  preview();
})();
