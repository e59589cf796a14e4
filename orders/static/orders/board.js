// The order board: pending orders to confirm, confirmed ones with their receipts.
"use strict";

(() => {
  const { labels, esc, label, post, poll } = printUi;
  const board = document.getElementById("board");
  const busy = new Set(); // orders with a click in flight: one click, one request

  function items(order) {
    return `<ul>${order.items.map((item) => `
      <li>${esc(item.name)} × ${item.quantity} <span class="options">${esc(item.options)}</span> ¥${esc(item.line_total)}</li>`).join("")}</ul>`;
  }

  function receipt(job) {
    const printer = job.printer || labels.every_printer;
    const kind = job.type === "reprint" ? ` (${esc(labels.reprint)})` : "";
    return `<span class="badge status-${esc(job.status)}" data-job="${job.job_id}" data-status="${esc(job.status)}"
      title="${esc(job.error)}">${esc(printer)}${kind}: ${esc(label("receipt", job.status))}</span>`;
  }

  function card(order, pending) {
    const disabled = busy.has(order.id) ? "disabled" : "";
    const actions = pending
      ? `<button class="big" data-action="confirm" data-order="${order.id}" ${disabled}>${esc(labels.confirm)}</button>
         <button class="quiet" data-action="cancel" data-order="${order.id}" ${disabled}>${esc(labels.cancel)}</button>`
      : `<button class="quiet" data-action="reprint" data-order="${order.id}" ${disabled}>${esc(labels.reprint)}</button>`;
    return `<div class="order" data-order="${order.id}" data-status="${esc(order.status)}">
      <div class="head"><span>#${order.id} · ${esc(order.created_at)}</span><span class="total">¥${esc(order.total)}</span></div>
      ${items(order)}
      ${order.note ? `<div class="note">${esc(labels.note)}: ${esc(order.note)}</div>` : ""}
      ${order.phone ? `<div class="options">${esc(order.phone)}</div>` : ""}
      ${pending ? "" : `<div class="receipts">${order.receipts.map(receipt).join("") || esc(labels.no_receipts)}</div>`}
      <div class="actions">${actions}</div>
    </div>`;
  }

  function render(data) {
    document.getElementById("pending-count").textContent = data.pending.length;
    document.getElementById("pending").innerHTML =
      data.pending.map((o) => card(o, true)).join("") || `<p class="hint">${esc(labels.no_pending)}</p>`;
    document.getElementById("confirmed").innerHTML =
      data.confirmed.map((o) => card(o, false)).join("") || `<p class="hint">${esc(labels.none)}</p>`;
  }

  board.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = Number(button.dataset.order);
    if (busy.has(id)) return;
    busy.add(id);
    button.disabled = true;
    try {
      await post(`orders/${id}/${button.dataset.action}`);
    } catch (e) {
      alert(e.message);
    } finally {
      busy.delete(id);
    }
  });

  const form = document.getElementById("new-order");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("form-result");
    try {
      const order = await post(form.dataset.url, Object.fromEntries(new FormData(form)));
      result.textContent = `${labels.order_added} #${order.id}`;
    } catch (e) { result.textContent = e.message; }
  });

  poll(board.dataset.url, render);
})();
