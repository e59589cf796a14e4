// Shared by the print dashboard, the WebSocket test client and the order board.
"use strict";

const printUi = (() => {
  const labels = JSON.parse(document.getElementById("print-labels").textContent);

  function esc(text) {
    return String(text ?? "").replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[c]);
  }

  function time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const today = new Date().toDateString() === d.toDateString();
    return today ? d.toLocaleTimeString(labels.locale, { hour12: false })
      : d.toLocaleString(labels.locale, { hour12: false });
  }

  function label(group, key) {
    return (labels[group] && labels[group][key]) || key;
  }

  function badge(status) {
    return `<span class="badge status-${esc(status)}" data-status="${esc(status)}">${esc(label("status", status))}</span>`;
  }

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function post(url, fields = {}) {
    const body = new URLSearchParams(fields);
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const error = new Error(data.message || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // Polls a JSON endpoint about once a second and hands each snapshot to render().
  function poll(url, render, interval = 1000) {
    const dot = document.getElementById("live-dot");
    const state = document.getElementById("live-state");
    async function tick() {
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) throw new Error(response.statusText);
        render(await response.json());
        if (dot) dot.className = "dot live";
        if (state) state.textContent = labels.live + " " + new Date().toLocaleTimeString(labels.locale, { hour12: false });
      } catch (e) {
        if (dot) dot.className = "dot down";
        if (state) state.textContent = labels.disconnected;
      } finally {
        setTimeout(tick, interval);
      }
    }
    tick();
  }

  return { labels, esc, time, label, badge, post, poll };
})();
