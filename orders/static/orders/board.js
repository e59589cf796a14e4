// The order board: pending orders to confirm, confirmed ones with their receipts.
"use strict";

(() => {
  const { labels, esc, label, post, poll } = printUi;
  const board = document.getElementById("board");
  const busy = new Set(); // orders with a click in flight: one click, one request
  // Open reprint choosers: order id -> the printer ids ticked. Kept here because every
  // snapshot redraws the cards.
  const choosing = new Map();
  // Open choosers' cup number for label printers (empty: every cup's label).
  const cups = new Map();
  let printers = [];
  let last = null;

  // "珍珠, 椰果" -> "+珍珠 +椰果", as the tickets print them.
  function toppings(text) {
    return String(text || "").split(/[,，、]/).map((t) => t.trim()).filter(Boolean)
      .map((t) => `+${t}`).join(" ");
  }

  function items(order) {
    return `<ul>${order.items.map((item) => `
      <li>${item.category ? `<span class="category">${esc(item.category)}</span> ` : ""}${esc(item.name)} × ${item.quantity}
        <span class="options">${esc(item.options)}</span>
        ${item.toppings ? `<span class="toppings">${esc(toppings(item.toppings))}</span>` : ""}
        ¥${esc(item.line_total)}</li>`).join("")}</ul>`;
  }

  function orderType(order) {
    let text = order.order_type_label;
    if (order.order_type === "delivery") {
      const platform = [order.delivery_platform, order.platform_order_no ? `#${order.platform_order_no}` : ""]
        .filter(Boolean).join(" ");
      if (platform) text += ` ${platform}`;
    }
    return `<span class="order-type type-${esc(order.order_type)}">${esc(text)}</span>`;
  }

  function receipt(job) {
    const printer = job.printer || labels.every_printer;
    const kinds = [job.type === "order" || job.type === "reprint" ? "" : label("type", job.type),
      job.reprint || job.type === "reprint" ? labels.reprint : ""].filter(Boolean);
    const kind = kinds.length ? ` (${esc(kinds.join(" · "))})` : "";
    return `<span class="badge status-${esc(job.status)}" data-job="${job.job_id}" data-status="${esc(job.status)}"
      title="${esc(job.error)}">${esc(printer)}${kind}: ${esc(label("receipt", job.status))}</span>`;
  }

  function chooser(order) {
    const ticked = choosing.get(order.id);
    const boxes = printers.map((p) => `
      <label><input type="checkbox" name="printer_ids" value="${p.id}" data-order="${order.id}"
        ${ticked.has(p.id) ? "checked" : ""}> ${esc(p.name)} <span class="options">${esc(p.role_label)}</span></label>`).join("");
    const cup = printers.some((p) => p.role === "label") ? `
      <label>${esc(labels.reprint_cup)} <input type="number" min="1" max="999" name="label"
        data-testid="reprint-cup" data-order="${order.id}" value="${esc(cups.get(order.id) || "")}"></label>` : "";
    return `<div class="reprint-chooser" data-testid="reprint-chooser">
      <div>${esc(labels.reprint_to)}</div>
      ${boxes || `<p class="hint">${esc(labels.no_printers)}</p>`}${cup}
      <div class="actions">
        <button class="big" data-action="reprint-send" data-order="${order.id}" ${ticked.size && !busy.has(order.id) ? "" : "disabled"}>${esc(labels.reprint)}</button>
        <button class="quiet" data-action="reprint-close" data-order="${order.id}">${esc(labels.close)}</button>
      </div>
    </div>`;
  }

  function card(order, pending) {
    const disabled = busy.has(order.id) ? "disabled" : "";
    const actions = pending
      ? `<button class="big" data-action="confirm" data-order="${order.id}" ${disabled}>${esc(labels.confirm)}</button>
         <button class="quiet" data-action="cancel" data-order="${order.id}" ${disabled}>${esc(labels.cancel)}</button>`
      : `<button class="quiet" data-action="reprint" data-order="${order.id}" ${disabled}>${esc(labels.reprint)}</button>`;
    return `<div class="order" data-order="${order.id}" data-status="${esc(order.status)}">
      ${order.pickup_number ? `<div class="pickup" data-testid="pickup-number">${esc(order.pickup_number)}</div>` : ""}
      <div class="head"><span>#${order.id} · ${esc(order.created_at)} · ${orderType(order)}</span><span class="total">¥${esc(order.total)}</span></div>
      ${items(order)}
      ${order.note ? `<div class="note">${esc(labels.note)}: ${esc(order.note)}</div>` : ""}
      ${order.phone ? `<div class="options">${esc(order.phone)}</div>` : ""}
      ${pending ? "" : `<div class="receipts">${order.receipts.map(receipt).join("") || esc(labels.no_receipts)}</div>`}
      <div class="actions">${actions}</div>
      ${!pending && choosing.has(order.id) ? chooser(order) : ""}
    </div>`;
  }

  function render(data) {
    // A pending order not seen before rings (printing/alerts.js).
    if (data !== last) printAlerts.orders(data.pending);
    last = data;
    printers = data.printers || [];
    const shown = new Set(data.confirmed.map((o) => o.id));
    for (const id of choosing.keys()) if (!shown.has(id)) choosing.delete(id);
    document.getElementById("pending-count").textContent = data.pending.length;
    document.getElementById("pending").innerHTML =
      data.pending.map((o) => card(o, true)).join("") || `<p class="hint">${esc(labels.no_pending)}</p>`;
    document.getElementById("confirmed").innerHTML =
      data.confirmed.map((o) => card(o, false)).join("") || `<p class="hint">${esc(labels.none)}</p>`;
  }

  const redraw = () => { if (last) render(last); };

  board.addEventListener("input", (event) => {
    const cup = event.target.closest(".reprint-chooser input[name=label]");
    if (cup) cups.set(Number(cup.dataset.order), cup.value);
  });

  board.addEventListener("change", (event) => {
    const box = event.target.closest(".reprint-chooser input[type=checkbox]");
    if (!box) return;
    const ticked = choosing.get(Number(box.dataset.order));
    if (!ticked) return;
    if (box.checked) ticked.add(Number(box.value)); else ticked.delete(Number(box.value));
    redraw();
  });

  board.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = Number(button.dataset.order);
    const action = button.dataset.action;
    if (action === "reprint") {
      // Opens the chooser with the receipt printers ticked, as a reprint goes by default.
      choosing.set(id, new Set(printers.filter((p) => p.default).map((p) => p.id)));
      redraw();
      return;
    }
    if (action === "reprint-close") {
      choosing.delete(id);
      cups.delete(id);
      redraw();
      return;
    }
    if (busy.has(id)) return;
    let fields = {};
    let url = `orders/${id}/${action}`;
    if (action === "reprint-send") {
      const ticked = [...(choosing.get(id) || [])];
      if (!ticked.length) return;
      fields = ticked.map((pk) => ["printer_ids", String(pk)]);
      if (cups.get(id)) fields.push(["label", cups.get(id)]);
      url = `orders/${id}/reprint`;
    }
    busy.add(id);
    button.disabled = true;
    try {
      await post(url, fields);
      if (action === "reprint-send") { choosing.delete(id); cups.delete(id); }
    } catch (e) {
      alert(e.message);
    } finally {
      busy.delete(id);
      redraw();
    }
  });

  const form = document.getElementById("new-order");
  const orderTypeSelect = document.getElementById("order-type");
  const deliveryFields = document.getElementById("delivery-fields");
  const showDelivery = () => { deliveryFields.hidden = orderTypeSelect.value !== "delivery"; };
  orderTypeSelect.addEventListener("change", showDelivery);
  showDelivery();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("form-result");
    const fields = Object.fromEntries(new FormData(form));
    if (fields.order_type !== "delivery") {
      delete fields.delivery_platform;
      delete fields.platform_order_no;
    }
    try {
      const order = await post(form.dataset.url, fields);
      result.textContent = `${labels.order_added} #${order.id}`;
    } catch (e) { result.textContent = e.message; }
  });

  poll(board.dataset.url, render);
})();
