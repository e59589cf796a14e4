// The WebSocket test client: this browser becomes a printer on the shop's protocol.
"use strict";

(() => {
  const { labels, esc, badge, post } = printUi;
  const root = document.getElementById("test-client");
  const $ = (id) => document.getElementById(id);
  let ws = null;
  let jobTimer = null;

  function log(direction, message) {
    const entry = document.createElement("div");
    entry.className = direction;
    const arrow = { in: "⬇", out: "⬆", note: "•" }[direction];
    const body = typeof message === "string" ? esc(message) : esc(JSON.stringify(message, null, 2));
    entry.innerHTML = `${arrow} ${new Date().toLocaleTimeString(labels.locale, { hour12: false })}<pre>${body}</pre>`;
    $("tc-log").prepend(entry);
  }

  function send(message) {
    message.timestamp = new Date().toISOString();
    ws.send(JSON.stringify(message));
    log("out", message);
  }

  function setConnected(connected, text) {
    $("tc-state").textContent = text;
    $("tc-state").className = "badge " + (connected ? "ok" : "bad");
    for (const id of ["tc-disconnect", "tc-test-print", "tc-completed", "tc-failed"]) $(id).disabled = !connected;
    $("tc-connect").disabled = connected;
  }

  function report(status, message) {
    const jobId = parseInt($("tc-job").value, 10);
    if (!jobId || !ws) return;
    send({ type: "print_status", job_id: jobId, status, message });
  }

  function printInBrowser(content) {
    const frame = document.createElement("iframe");
    frame.style.display = "none";
    document.body.appendChild(frame);
    frame.contentDocument.write(`<pre style="font: 13px monospace">${esc(content)}</pre>`);
    frame.contentDocument.close();
    frame.contentWindow.print();
    setTimeout(() => frame.remove(), 1000);
  }

  function onJob(job) {
    $("tc-job").value = job.job_id;
    $("tc-receipt").textContent = job.content || "";
    showPaper(job.job_id);
    watchJob(job.job_id);
    if ($("tc-auto").checked) {
      send({ type: "print_status", job_id: job.job_id, status: "printing", message: "" });
      printInBrowser(job.content || "");
      send({ type: "print_status", job_id: job.job_id, status: "completed", message: labels.printed_in_browser });
    }
  }

  // The picture of the paper this job makes on the printer this page stands in for.
  function showPaper(jobId) {
    const url = root.dataset.previewUrl.replace("/0/", `/${parseInt(jobId, 10)}/`);
    paperPreview.load($("tc-preview"), url, { failed: labels.preview_failed, alt: `${labels.preview} #${jobId}` });
  }

  function watchJob(jobId) {
    clearInterval(jobTimer);
    const url = root.dataset.jobUrl.replace(/0$/, String(jobId));
    async function check() {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const job = await response.json();
      $("tc-job-status").innerHTML = `#${job.id} ${badge(job.status)}`;
    }
    check();
    jobTimer = setInterval(check, 1000);
  }

  $("tc-connect").addEventListener("click", async () => {
    const printer = $("tc-printer").value;
    let ticket;
    try {
      ticket = (await post(root.dataset.ticketUrl, { printer })).ticket;
    } catch (e) { log("note", e.message); return; }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${scheme}//${location.host}/ws/print/?ticket=${encodeURIComponent(ticket)}`);
    setConnected(false, labels.connecting);
    ws.onopen = () => {
      setConnected(true, labels.connected);
      send({ type: "printer_info", printer: { name: $("tc-printer").selectedOptions[0].text, model: "browser test client", status: "ready" } });
    };
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      log("in", message);
      if (message.type === "ping") send({ type: "pong" });
      if (message.type === "new_order") onJob(message.order);
      if (message.type === "print_command") onJob(message.data);
    };
    ws.onclose = (event) => {
      setConnected(false, `${labels.disconnected} (${event.code}${event.reason ? " " + event.reason : ""})`);
      log("note", `${labels.closed} ${event.code} ${event.reason}`);
      ws = null;
    };
  });
  $("tc-disconnect").addEventListener("click", () => ws && ws.close());
  $("tc-test-print").addEventListener("click", async () => {
    try { await post(root.dataset.testPrintUrl, { printer: $("tc-printer").value }); }
    catch (e) { log("note", e.message); }
  });
  $("tc-completed").addEventListener("click", () => report("completed", labels.printed_ok));
  $("tc-failed").addEventListener("click", () => report("failed", labels.failed_from_browser));
})();
