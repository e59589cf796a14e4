// Pictures of the paper: a job's preview, or a sample drawn from settings as typed. Each is
// fetched rather than set as an <img> src, so that a refusal (400 with the field at fault,
// 409, 403) is shown as its message instead of a broken image. Everything the server says
// goes in as text.
"use strict";

const paperPreview = (() => {
  const pictures = new WeakMap(); // target -> the object URL it shows, freed when replaced
  const requests = new WeakMap(); // target -> number of the newest request drawn into it

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function put(target, node) {
    const old = pictures.get(target);
    if (old) URL.revokeObjectURL(old);
    pictures.delete(target);
    target.replaceChildren(node);
  }

  function note(text) {
    const p = document.createElement("p");
    p.className = "errornote paper-preview-error";
    p.textContent = text;
    return p;
  }

  // "field label: message" for each field the server refused, else its message.
  function refusal(data, labelOf) {
    const fields = Object.entries(data.fields || {});
    if (!fields.length) return data.message || "";
    return fields.map(([name, messages]) => `${labelOf(name) || name}: ${messages.join(" ")}`).join("\n");
  }

  // Draws what `url` answers into `target`: the picture, or the reason there is none.
  // `fields` (FormData or URLSearchParams) makes it a POST. Resolves to true for a picture.
  // Of overlapping requests into one target only the newest is drawn.
  async function load(target, url, { fields = null, failed = "", labelOf = () => "", alt = "" } = {}) {
    const number = (requests.get(target) || 0) + 1;
    requests.set(target, number);
    target.setAttribute("aria-busy", "true");
    const options = { credentials: "same-origin", cache: "no-store" };
    if (fields) Object.assign(options, { method: "POST", body: fields, headers: { "X-CSRFToken": csrfToken() } });
    let node;
    try {
      const response = await fetch(url, options);
      const type = response.headers.get("Content-Type") || "";
      if (response.ok && type.startsWith("image/png")) {
        const source = URL.createObjectURL(await response.blob());
        node = new Image();
        node.src = source;
        node.alt = alt;
        node.className = "paper-preview";
        node.dataset.source = url;
        await node.decode().catch(() => {});
        if (requests.get(target) !== number) { URL.revokeObjectURL(source); return false; }
        put(target, node);
        pictures.set(target, source);
        return true;
      }
      let text = `${failed} (${response.status})`;
      if (type.startsWith("application/json")) text = refusal(await response.json(), labelOf) || text;
      node = note(text);
    } catch (e) {
      node = note(failed);
    } finally {
      if (requests.get(target) === number) target.removeAttribute("aria-busy");
    }
    if (requests.get(target) === number) put(target, node);
    return false;
  }

  // An overlay over the page with the picture at full size; made on first use.
  function overlay(url, texts) {
    let dialog = document.getElementById("paper-preview-dialog");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "paper-preview-dialog";
      dialog.className = "paper-preview-dialog";
      const bar = document.createElement("div");
      bar.className = "paper-preview-bar";
      const full = document.createElement("a");
      full.target = "_blank";
      full.rel = "noopener";
      full.textContent = texts.open_full_size;
      const close = document.createElement("button");
      close.type = "button";
      close.className = "button";
      close.textContent = texts.close;
      close.addEventListener("click", () => dialog.close());
      const body = document.createElement("div");
      body.className = "paper-preview-body";
      bar.append(full, close);
      dialog.append(bar, body);
      // A click on the dimmed page around the picture closes it too.
      dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
      document.body.append(dialog);
    }
    dialog.querySelector("a").href = url;
    const body = dialog.querySelector(".paper-preview-body");
    body.replaceChildren();
    if (!dialog.open) dialog.showModal();
    return load(body, url, { failed: texts.failed, alt: texts.alt || "" });
  }

  return { load, overlay };
})();
