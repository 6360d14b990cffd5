// The browser chat over sandbox/: each pane follows its chat by server-sent events carrying
// rendered HTML, and acts through the control endpoints (/_control/, docs/sandbox.md).
(() => {
  "use strict";
  const body = document.body;
  const labels = JSON.parse(body.dataset.labels || "{}");
  const lang = body.dataset.lang || "ru";

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function localTimes(root) {
    for (const node of root.querySelectorAll("time[data-ts]")) {
      const date = new Date(Number(node.dataset.ts) * 1000);
      node.textContent = date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    }
  }

  let toastTimer = null;
  function toast(text, kind, over) {  // over: the pane it is about (its bottom middle)
    const node = document.getElementById("toast");
    node.textContent = text;
    node.className = kind || "";
    const box = (over || document.body).getBoundingClientRect();
    node.style.left = `${box.left + box.width / 2}px`;
    node.style.bottom = `${Math.max(window.innerHeight - box.bottom, 0) + 70}px`;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
  }

  function alertBox(text) {
    const node = document.getElementById("alert");
    node.querySelector("p").textContent = text;
    node.hidden = false;
    node.querySelector("button").focus();
  }
  document.querySelector("#alert button").addEventListener("click", () => {
    document.getElementById("alert").hidden = true;
  });

  async function call(path, payload) {
    const options = { method: "POST" };
    if (payload instanceof FormData) {
      options.body = payload;
    } else {
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify(payload || {});
    }
    const response = await fetch("/_control" + path, options);
    const result = await response.json().catch(() => ({}));
    if (!response.ok) {
      toast(result.error || response.statusText, "error");
      throw new Error(result.error || response.statusText);
    }
    return result;
  }

  class Pane {
    constructor(root) {
      this.root = root;
      this.messages = root.querySelector(".messages");
      this.keyboard = root.querySelector(".keyboard");
      this.topics = root.querySelector(".topics");
      this.form = root.querySelector(".composer");
      this.input = this.form.querySelector("input[name=text]");
      this.file = this.form.querySelector("input[type=file]");
      this.startButton = root.querySelector(".start");
      this.replyBox = root.querySelector(".reply-to");
      this.replyTo = null;
      this.thread = "";
      this.placeholder = this.input.placeholder;
      this.bind();
      localTimes(this.messages);
      this.refresh();
      this.connect();
    }

    get chat() { return Number(this.root.dataset.chat); }
    get viewer() { return Number(this.root.dataset.viewer); }
    get isGroup() { return this.chat < 0; }

    connect() {
      if (this.source) this.source.close();
      this.root.classList.add("connecting");
      const url = `/events?chat=${this.chat}&viewer=${this.viewer}&lang=${lang}`;
      const source = new EventSource(url);
      this.source = source;
      const on = (name, handler) => source.addEventListener(name, (event) => {
        if (this.source === source) handler(JSON.parse(event.data));
      });
      on("reset", (data) => this.reset(data));
      on("upsert", (data) => this.upsert(data));
      on("remove", (data) => this.remove(data.id));
      on("keyboard", (data) => this.setKeyboard(data));
      on("topics", (data) => { this.topics.innerHTML = data.html; this.showThread(); });
      on("sms", (data) => {
        showSms(data.html);
        toast("✉️ " + data.last, "", this.root);
      });
    }

    reset(data) {
      this.messages.innerHTML = data.html;
      this.topics.innerHTML = data.topics || "";
      this.setKeyboard(data.keyboard);
      if (data.sms !== null && data.sms !== undefined) showSms(data.sms);
      localTimes(this.messages);
      this.root.classList.remove("connecting");
      this.root.dataset.ready = "1";
      this.showThread();
      this.refresh();
      this.scrollDown();
    }

    find(id) { return this.messages.querySelector(`:scope > [data-mid="${id}"]`); }

    upsert(data) {
      const node = fromHtml(data.html);
      if (!node) return;
      localTimes(node);
      const old = this.find(data.id);
      if (old) {
        const atBottom = this.atBottom();
        old.replaceWith(node);
        if (atBottom) this.scrollDown();  // an edit at the end stays in view (new buttons)
      } else {
        const after = [...this.messages.children].find((c) => Number(c.dataset.mid) > data.id);
        this.messages.insertBefore(node, after || null);
        this.scrollDown();
        if (node.dataset.forceReply && node.classList.contains("bot")) this.setReply(node);
      }
      this.showThread();
      this.refresh();
    }

    remove(id) {
      const old = this.find(id);
      if (old) old.remove();
      if (this.replyTo && this.replyTo.id === id) this.setReply(null);
      this.refresh();
    }

    setKeyboard(data) {
      this.keyboard.innerHTML = (data && data.html) || "";
      this.input.placeholder = (data && data.placeholder) || this.placeholder;
    }

    refresh() {
      const empty = !this.isGroup && this.messages.children.length === 0;
      this.startButton.hidden = !empty;
      this.form.hidden = empty;
      this.keyboard.hidden = empty;
    }

    scrollDown() { this.messages.scrollTop = this.messages.scrollHeight; }

    atBottom() {
      const box = this.messages;
      return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    }

    showThread() {
      for (const tab of this.topics.querySelectorAll(".topic")) {
        tab.classList.toggle("active", tab.dataset.thread === this.thread);
      }
      for (const node of this.messages.children) {
        node.hidden = this.thread !== "" && node.dataset.thread !== this.thread;
      }
    }

    setReply(node) {
      if (!node) {
        this.replyTo = null;
        this.replyBox.hidden = true;
        return;
      }
      const text = node.querySelector(".text");
      const atBottom = this.atBottom();
      this.replyTo = { id: Number(node.dataset.mid), thread: node.dataset.thread };
      this.replyBox.querySelector(".reply-text").textContent =
        `${labels.reply || "Reply"}: ${(text ? text.textContent : "").slice(0, 80)}`;
      this.replyBox.hidden = false;
      if (atBottom) this.scrollDown();  // the reply bar must not hide the newest message
      this.input.focus();
    }

    target() {
      const where = {};
      if (this.isGroup) where.chat_id = this.chat;
      if (this.replyTo) where.reply_to = this.replyTo.id;
      else if (this.isGroup && this.thread) where.thread_id = Number(this.thread);
      return where;
    }

    async send(text) {
      if (!text.trim()) return;
      await call(`/users/${this.viewer}/send`, { text, ...this.target() });
      this.setReply(null);
    }

    async sendPhoto(file) {
      // an image goes as a photo; anything else (a PDF) as a document
      const kind = file.type.startsWith("image/") ? "photo" : "document";
      const form = new FormData();
      form.append(kind, file, file.name);
      for (const [key, value] of Object.entries(this.target())) form.append(key, String(value));
      if (this.input.value.trim()) form.append("caption", this.input.value.trim());
      await call(`/users/${this.viewer}/${kind}`, form);
      this.input.value = "";
      this.setReply(null);
    }

    async press(button) {
      const message = button.closest("[data-mid]");
      button.classList.add("pressed");
      try {
        const answer = await call(`/users/${this.viewer}/press`, {
          chat_id: this.chat,
          message_id: Number(message.dataset.mid),
          callback_data: button.dataset.cb,
        });
        if (!answer.answered) toast(labels.no_answer, "error", this.root);
        else if (answer.text && answer.show_alert) alertBox(answer.text);
        else if (answer.text) toast(answer.text, "", this.root);
      } finally {
        button.classList.remove("pressed");
      }
    }

    bind() {
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = this.input.value;
        this.input.value = "";
        this.send(text).catch(() => { this.input.value = text; });
      });
      this.file.addEventListener("change", () => {
        const file = this.file.files[0];
        this.file.value = "";
        if (file) this.sendPhoto(file).catch(() => {});
      });
      this.startButton.addEventListener("click", () => this.send("/start").catch(() => {}));
      this.replyBox.querySelector(".reply-cancel").addEventListener("click", () => this.setReply(null));
      this.root.addEventListener("click", (event) => this.click(event));
    }

    click(event) {
      const target = event.target.closest("button, a, .quote");
      if (!target || !this.root.contains(target)) return;
      if (target.matches(".ikb-btn[data-cb]")) {
        this.press(target).catch(() => {});
      } else if (target.matches("a.cmd")) {
        event.preventDefault();
        this.send(target.dataset.command).catch(() => {});
      } else if (target.matches(".rkb-btn[data-contact]")) {
        call(`/users/${this.viewer}/contact`, {}).catch(() => {});
      } else if (target.matches(".rkb-btn")) {
        this.send(target.dataset.text).catch(() => {});
      } else if (target.matches(".reply-btn")) {
        this.setReply(target.closest("[data-mid]"));
      } else if (target.matches(".topic")) {
        this.thread = target.dataset.thread;
        this.showThread();
        this.scrollDown();
      } else if (target.matches(".quote")) {
        const original = this.find(Number(target.dataset.goto));
        if (original) {
          original.scrollIntoView({ block: "center" });
          original.classList.add("flash");
          setTimeout(() => original.classList.remove("flash"), 1200);
        }
      }
    }
  }

  function showSms(html) {
    const list = document.getElementById("sms-list");
    if (!list) return;
    list.innerHTML = html;
    localTimes(list);
  }

  const resident = document.getElementById("resident");
  const staff = document.getElementById("staff");
  const residentPane = resident && resident.querySelector(".messages") ? new Pane(resident) : null;
  const staffPane = staff ? new Pane(staff) : null;

  function chooseResident(button) {
    for (const other of document.querySelectorAll(".person")) other.classList.remove("active");
    button.classList.add("active");
    resident.querySelector(".chat-with").textContent =
      (labels.chat_with || "{name}").replace("{name}", button.dataset.name);
  }

  const chosen = document.querySelector(".person.active");
  if (chosen) chooseResident(chosen);
  document.getElementById("residents").addEventListener("click", (event) => {
    const button = event.target.closest(".person");
    if (!button || !residentPane) return;
    chooseResident(button);
    resident.dataset.chat = button.dataset.user;
    resident.dataset.viewer = button.dataset.user;
    residentPane.setReply(null);
    const url = new URL(window.location.href);
    url.searchParams.set("resident", button.dataset.user);
    window.history.replaceState(null, "", url);
    residentPane.connect();
  });

  const operator = staff && staff.querySelector("select.operator");
  if (operator) {
    operator.addEventListener("change", () => {
      staff.dataset.viewer = operator.value;
      const url = new URL(window.location.href);
      url.searchParams.set("operator", operator.value);
      window.history.replaceState(null, "", url);
      staffPane.connect();
    });
  }
  for (const link of document.querySelectorAll(".langs a")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const url = new URL(window.location.href);
      url.searchParams.set("lang", new URL(link.href).searchParams.get("lang"));
      window.location.href = url.toString();
    });
  }
  localTimes(document);
})();
