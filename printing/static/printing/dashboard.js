// The print dashboard: one JSON snapshot a second, rendered into the page.
"use strict";

(() => {
  const { labels, esc, time, label, badge, post, poll } = printUi;
  const root = document.getElementById("print-dashboard");
  const $ = (id) => document.getElementById(id);
  const rows = (table, html) => { document.querySelector(`#${table} tbody`).innerHTML = html; };

  function render(data) {
    const warnings = data.warnings || [];
    $("warnings").hidden = !warnings.length;
    $("warnings").innerHTML = warnings.map((w) => `<li class="warning">${esc(w)}</li>`).join("");

    const s = data.stats;
    $("printers-online").textContent = s.printers_online;
    $("printers-active").textContent = s.printers_active;
    $("printers-total").textContent = s.printers_total;
    const today = Object.entries(s.jobs_today);
    $("jobs-today").innerHTML = today.length
      ? today.map(([status, n]) => `${badge(status)} ${n}`).join(" ") : "0";
    $("failure-rate").textContent = s.failure_rate === null ? "–" : (s.failure_rate * 100).toFixed(1) + "%";

    const service = data.service;
    $("service-state").innerHTML = service.up
      ? `<span class="badge ok">${esc(labels.up)}</span>` : `<span class="badge bad">${esc(labels.down)}</span>`;
    const server = service.servers[0];
    $("service-detail").textContent = server
      ? `${labels.since} ${time(service.since)} · v${server.version} · ${server.channel_layer} · ${labels.sockets}: ${service.sockets} · ${labels.processes}: ${service.servers.length}`
      : "";

    rows("printers-table", data.printers.map((p) => `
      <tr data-printer="${esc(p.name)}">
        <td><a href="../printing/printerconfig/${p.id}/change/">${esc(p.name)}</a>${p.active ? "" : ` <span class="badge bad">${esc(labels.disabled)}</span>`}</td>
        <td>${p.online ? `<span class="badge ok">${esc(labels.online)}</span>` : `<span class="badge bad">${esc(labels.offline)}</span>`}
            ${p.network_status && p.network_status !== "online" ? badge(p.network_status) : ""}</td>
        <td>${esc(label("connection", p.connection_type))}</td>
        <td>${esc(time(p.last_seen))}</td>
        <td>${p.pending_jobs}</td>
        <td>${esc(p.backup_printer || "")}</td>
      </tr>`).join("") || `<tr><td colspan="6">${esc(labels.none)}</td></tr>`);

    rows("connections-table", data.connections.map((c) => `
      <tr data-connection="${c.id}">
        <td>${c.printer ? esc(c.printer) : `<span class="hint">${esc(labels.unbound_hint)}</span>`}</td>
        <td>${esc(c.reported_name)}</td><td>${esc(c.reported_model)}</td>
        <td>${esc(c.address)}</td><td>${esc(label("auth", c.authenticated_by))}</td>
        <td>${esc(time(c.connected_at))}</td><td>${esc(time(c.last_seen))}</td>
      </tr>`).join("") || `<tr><td colspan="7">${esc(labels.no_sockets)}</td></tr>`);

    rows("jobs-table", data.recent_jobs.map((j) => `
      <tr data-job="${j.id}">
        <td><a href="../printing/printjob/${j.id}/change/">${j.id}</a></td>
        <td>${j.order_id ? `#${j.order_id}` : ""}</td>
        <td>${esc(j.printer || labels.every_printer)}</td>
        <td>${esc(label("type", j.type))}</td>
        <td>${badge(j.status)}</td><td>${j.attempts}</td><td>${j.retries}</td>
        <td>${esc(time(j.created_at))}</td><td>${esc(time(j.completed_at))}</td>
        <td class="error">${esc(j.error)}</td>
        <td><a href="${esc(previewUrl(j.id))}" target="_blank" rel="noopener" data-preview="${j.id}">${esc(labels.preview)}</a></td>
      </tr>`).join("") || `<tr><td colspan="11">${esc(labels.none)}</td></tr>`);
  }

  // A job's paper is fetched only when its link is clicked, never on the once-a-second redraw;
  // the overlay lives outside the table, so redraws leave it open. A middle or ctrl click
  // still opens the picture in a new tab.
  function previewUrl(jobId) {
    return root.dataset.previewUrl.replace("/0/", `/${jobId}/`);
  }
  $("jobs-table").addEventListener("click", (event) => {
    const link = event.target.closest("a[data-preview]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    paperPreview.overlay(link.href, {
      open_full_size: labels.open_full_size, close: labels.close, failed: labels.preview_failed,
      alt: `${labels.preview} #${link.dataset.preview}`,
    });
  });

  const result = $("action-result");
  $("test-print-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await post("test-print", { printer: $("test-print-printer").value });
      result.textContent = `${labels.queued}: ${data.jobs.length}`;
    } catch (e) { result.textContent = e.message; }
  });
  $("retry-failed").addEventListener("click", async () => {
    try {
      const data = await post("retry-failed");
      result.textContent = `${labels.retried}: ${data.retried}`;
    } catch (e) { result.textContent = e.message; }
  });

  poll(root.dataset.url, render);
})();
