// Open alerts, seen and heard, on the order board and the print dashboard: a banner per
// alert with a "got it" button, a beep and a spoken line when one opens (again every 30 s
// until acknowledged), a beep and "you have a new order" when the board sees a new order,
// and a system notification while the page is in the background. Everything the server
// says goes in as text.
"use strict";

const printAlerts = (() => {
  const { labels, time, post } = printUi;
  const words = labels.alerts;
  const bar = document.getElementById("alert-bar");
  const POLL_MS = 1000;
  const REPEAT_MS = 30000;
  // Remembered per browser: staff enabled sound once (the page still needs a gesture after
  // every load before the browser lets it play), and whether they muted it or the voice.
  const store = {
    get: (key) => { try { return localStorage.getItem(`printAlerts.${key}`); } catch (e) { return null; } },
    set: (key, value) => { try { localStorage.setItem(`printAlerts.${key}`, value); } catch (e) { /* private mode */ } },
  };

  let audio = null;
  let muted = store.get("muted") === "1";
  let speaking = store.get("speech") !== "0";
  const banners = new Map(); // alert id -> its banner element
  const heard = new Set(); // alert ids already announced: each opens with one beep
  const acked = new Set(); // acknowledged here, hidden before the list says so
  let lastAlarm = 0; // Date.now() of the newest alert beep, for the 30 s repeat
  let knownOrders = null; // pending order ids seen so far; null until the first snapshot

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- sound, voice and notifications ---

  function audioReady() {
    return Boolean(audio) && audio.state === "running";
  }

  function unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
      audio.onstatechange = drawControls;
    }
    if (audio && audio.state !== "running") audio.resume().then(drawControls, drawControls);
    drawControls();
  }

  function beep() {
    if (muted || !audio) return;
    if (audio.state !== "running") audio.resume().catch(() => {});
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = 880;
    gain.gain.value = 0.2;
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.25);
  }

  function speak(text) {
    if (muted || !speaking || !text || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = labels.locale;
    window.speechSynthesis.speak(utterance);
  }

  function notify(title, body, tag) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    try { new Notification(title, { body, tag }); } catch (e) { /* some browsers allow only service-worker notifications */ }
  }

  function announce({ title, text, tag }) {
    beep();
    speak(text);
    notify(title, text, tag);
  }

  // --- the controls: enable sound, mute, voice ---

  const controls = element("div", "alert-controls");
  const enable = element("button", "alert-enable", words.enable_sound);
  enable.type = "button";
  enable.dataset.testid = "enable-sound";
  const mute = element("button", "alert-mute");
  mute.type = "button";
  mute.dataset.testid = "mute-alerts";
  const voice = element("label", "alert-voice");
  const voiceBox = element("input");
  voiceBox.type = "checkbox";
  voiceBox.dataset.testid = "speak-alerts";
  voice.append(voiceBox, " ", words.speech);
  controls.append(enable, mute, voice);
  const list = element("div", "alert-list");
  list.setAttribute("role", "alert");
  list.setAttribute("aria-label", words.region);
  bar.append(list, controls);

  function drawControls() {
    enable.hidden = audioReady();
    mute.textContent = muted ? words.unmute : words.mute;
    mute.setAttribute("aria-pressed", String(muted));
    voiceBox.checked = speaking;
    voiceBox.disabled = muted;
  }

  enable.addEventListener("click", () => {
    store.set("sound", "on");
    unlock();
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
  });
  mute.addEventListener("click", () => {
    muted = !muted;
    store.set("muted", muted ? "1" : "0");
    if (muted && window.speechSynthesis) window.speechSynthesis.cancel();
    drawControls();
  });
  voiceBox.addEventListener("change", () => {
    speaking = voiceBox.checked;
    store.set("speech", speaking ? "1" : "0");
  });
  // Sound enabled on an earlier visit: the first click or key anywhere unlocks it again.
  if (store.get("sound") === "on") {
    const again = () => {
      unlock();
      if (audioReady()) {
        document.removeEventListener("pointerdown", again, true);
        document.removeEventListener("keydown", again, true);
      }
    };
    document.addEventListener("pointerdown", again, true);
    document.addEventListener("keydown", again, true);
    unlock();
  }
  drawControls();

  // --- the banners ---

  function banner(alert) {
    const node = element("div", `alert-banner severity-${alert.severity === "order" ? "order" : "printing"}`);
    node.dataset.alert = alert.id;
    node.dataset.kind = alert.kind;
    node.dataset.testid = "alert";
    node.append(element("span", "alert-message", alert.message));
    node.append(element("span", "alert-time", time(alert.opened_at)));
    const button = element("button", "alert-ack", words.acknowledge);
    button.type = "button";
    button.dataset.action = "ack";
    button.addEventListener("click", () => acknowledge(alert.id, node, button));
    node.append(button);
    return node;
  }

  async function acknowledge(id, node, button) {
    button.disabled = true;
    try {
      await post(bar.dataset.ackUrl.replace("/0/", `/${id}/`));
    } catch (e) {
      // Unknown (404): resolved and gone meanwhile; hide it all the same.
      if (e.status !== 404) {
        button.disabled = false;
        button.title = `${words.ack_failed}: ${e.message}`;
        return;
      }
    }
    acked.add(id);
    banners.delete(id);
    node.remove();
    bar.classList.toggle("has-alerts", banners.size > 0);
  }

  function show(alerts) {
    const open = new Set(alerts.map((a) => a.id));
    for (const id of [...acked, ...heard]) {
      if (!open.has(id)) { acked.delete(id); heard.delete(id); }
    }
    // Acknowledged here or on another screen: hidden; gone from the list: resolved.
    const waiting = alerts.filter((a) => !a.acknowledged && !acked.has(a.id));
    const shown = new Set(waiting.map((a) => a.id));
    for (const id of banners.keys()) if (!shown.has(id)) banners.delete(id);
    for (const alert of waiting) {
      if (!banners.has(alert.id)) banners.set(alert.id, banner(alert));
      else banners.get(alert.id).querySelector(".alert-message").textContent = alert.message;
    }
    // Newest first, as the list comes.
    list.replaceChildren(...waiting.map((a) => banners.get(a.id)));
    bar.classList.toggle("has-alerts", waiting.length > 0);

    const fresh = waiting.filter((a) => !heard.has(a.id));
    for (const alert of fresh) heard.add(alert.id);
    const now = Date.now();
    if (fresh.length) {
      lastAlarm = now;
      beep();
      for (const alert of fresh.reverse()) {
        speak(alert.message);
        notify(alert.severity === "order" ? words.order_title : words.printing_title,
          alert.message, `alert-${alert.id}`);
      }
    } else if (waiting.length && now - lastAlarm >= REPEAT_MS) {
      lastAlarm = now;
      beep();
      speak(waiting[0].message);
    }
  }

  async function tick() {
    try {
      const response = await fetch(bar.dataset.url, { credentials: "same-origin", cache: "no-store" });
      // Staff who may see orders but not printing: no alerts for them, and no request a
      // second to be refused (the board's new-order sound still works).
      if (response.status === 403) return;
      if (response.ok) show((await response.json()).alerts || []);
    } catch (e) {
      // Offline for a moment: the next tick tries again; the banners stay as they were.
    }
    setTimeout(tick, POLL_MS);
  }
  tick();

  // The board hands over every snapshot's pending orders; the first one is what was
  // already there when the page opened, so it is not announced.
  function orders(pending) {
    const ids = pending.map((o) => o.id);
    if (knownOrders === null) { knownOrders = new Set(ids); return; }
    const fresh = ids.filter((id) => !knownOrders.has(id));
    for (const id of fresh) knownOrders.add(id);
    if (fresh.length) {
      announce({ title: words.new_order_title, text: words.new_order, tag: `order-${fresh[0]}` });
    }
  }

  return { orders };
})();
