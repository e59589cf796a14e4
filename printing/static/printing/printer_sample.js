// The printer's admin form: a sample order drawn with the settings as they stand in the form,
// before saving; on a saved printer's page, the saved settings' sample straight away.
"use strict";

(() => {
  const box = document.getElementById("sample-preview");
  const form = box && box.closest("form");
  if (!form) return;
  const result = document.getElementById("sample-preview-result");

  function labelOf(name) {
    const label = form.querySelector(`label[for="id_${name}"]`);
    return label ? label.textContent.replace(/[:：]\s*$/, "").trim() : "";
  }

  function preview() {
    // The whole form, as Save would send it: the endpoint reads the fields it draws from.
    return paperPreview.load(result, box.dataset.url, {
      fields: new FormData(form), failed: box.dataset.failed, alt: box.dataset.alt, labelOf,
    });
  }

  document.getElementById("sample-preview-button").addEventListener("click", preview);
  if (box.dataset.onLoad) preview();
})();
