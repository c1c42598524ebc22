/* narrate player: controls, chapter list, word-by-word transcript, resume, lock-screen controls
   and deep links for a narrate fragment. No dependencies. Safe to include once per fragment: it
   wires every [data-narrate] root on the page that is not wired yet, each on its own. Without
   it the <audio> element still plays and the text still reads. */
(function () {
  "use strict";
  var ROOT = "[data-narrate]";
  var RATES = [0.75, 1, 1.25, 1.5, 1.75, 2], BACK = 15, FORWARD = 30;
  var RATE_KEY = "narrate:rate", SPOT_KEY = "narrate:position:";

  function secs(el) {
    return parseFloat(el.getAttribute(el.hasAttribute("data-word-start") ?
      "data-word-start" : "data-start")) || 0;
  }
  function each(list, f) { Array.prototype.forEach.call(list, f); }

  /* localStorage, if the browser lets the page have it (it may not: privacy modes). */
  function load(key) {
    try { return JSON.parse(window.localStorage.getItem(key)); } catch (e) { return null; }
  }
  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* no storage: nothing is remembered */ }
  }

  /* [h, m, s] of whole seconds; clock() is m:ss or h:mm:ss, iso() an ISO 8601 duration. */
  function hms(t) {
    t = Math.floor(t);
    return [Math.floor(t / 3600), Math.floor(t / 60) % 60, t % 60];
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(t) {
    var p = hms(t);
    return (p[0] ? p[0] + ":" + two(p[1]) : p[1]) + ":" + two(p[2]);
  }
  function iso(t) {
    var p = hms(t);
    return "PT" + (p[0] ? p[0] + "H" : "") + (p[0] || p[1] ? p[1] + "M" : "") + p[2] + "S";
  }

  /* A cue's text as plain text: character references decoded, nothing parsed as markup. */
  function cueText(c) { return c.getCueAsHTML ? c.getCueAsHTML().textContent : c.text; }

  function setTimes(el, c) {
    el.setAttribute("data-start", c.startTime);
    el.setAttribute("data-end", c.endTime);
  }

  /* Word starts of a transcript cue from its WebVTT inline timestamps, or null. */
  function inlineStarts(c) {
    var out = [c.startTime], re = /<(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)>/g, m;
    while ((m = re.exec(c.text || ""))) out.push((+m[1] || 0) * 3600 + m[2] * 60 + +m[3]);
    return out.length > 1 ? out : null;
  }

  /* "83.5", "1:23.5" or "1:02:03" -> seconds; NaN when it is none of those. */
  function parseTime(text) {
    if (!/^\d+(\.\d+)?$|^(\d+:)?\d{1,2}:\d{1,2}(\.\d+)?$/.test(text)) return NaN;
    return text.split(":").reduce(function (acc, part) { return acc * 60 + parseFloat(part); }, 0);
  }

  /* Index of the last element starting at or before t, or -1. */
  function lastStarted(list, t) {
    var lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (list[mid].start <= t + 0.001) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function setCurrent(list, index, previous, attr) {
    if (index === previous) return index;
    if (previous >= 0 && list[previous]) list[previous].el.removeAttribute(attr);
    if (index >= 0) list[index].el.setAttribute(attr, attr === "aria-current" ? "true" : "");
    return index;
  }

  /* Wrap each word of a sentence in a span (the text stays as it was pasted). */
  function splitWords(el) {
    var words = [];
    Array.prototype.slice.call(el.childNodes).forEach(function (node) {
      if (node.nodeType !== 3) return;
      var frag = document.createDocumentFragment();
      node.data.split(/(\s+)/).forEach(function (part) {
        if (!part) return;
        if (/^\s/.test(part)) { frag.appendChild(document.createTextNode(part)); return; }
        var w = document.createElement("span");
        w.textContent = part;
        frag.appendChild(w);
        words.push(w);
      });
      el.replaceChild(frag, node);
    });
    return words;
  }

  /* A sentence of the transcript: its element, times, words and their offsets (seconds). */
  function sentence(el) {
    var s = { el: el, start: secs(el), end: parseFloat(el.getAttribute("data-end")) };
    s.base = s.end - s.start;
    s.words = splitWords(el);
    var deltas = (el.getAttribute("data-w") || "").split(" ").map(Number), acc = 0;
    if (deltas.length === s.words.length && deltas.every(isFinite)) {
      s.off = deltas.map(function (d) { return (acc += d) / 100; });
      s.estimated = el.hasAttribute("data-word-estimated");
    } else {  // no usable times: spread the sentence over its words by their characters
      var total = s.words.reduce(function (n, w) { return n + w.textContent.length + 1; }, 0);
      s.off = s.words.map(function (w) {
        var at = acc; acc += w.textContent.length + 1; return s.base * at / total;
      });
      s.estimated = s.words.length > 1;  // a single word starts with its sentence: exact
      if (s.estimated) el.setAttribute("data-word-estimated", "");
    }
    return s;
  }

  /* Put each word's start on its element from the sentence's current times. */
  function timeWords(s) {
    s.start = secs(s.el);
    s.end = parseFloat(s.el.getAttribute("data-end"));
    var scale = s.estimated && s.base > 0 ? (s.end - s.start) / s.base : 1;
    s.words.forEach(function (w, i) {
      var t = s.exact ? s.exact[i] : s.start + s.off[i] * scale;
      w.setAttribute("data-word-start", t.toFixed(3));
    });
  }

  function wire(root) {
    var audio = root.querySelector("audio");
    if (!audio || root.hasAttribute("data-narrate-ready")) return;
    root.setAttribute("data-narrate-ready", "");
    var p = new Player(root, audio);
    root.narrateSeek = p.seek.bind(p);
    p.start();
  }

  function Player(root, audio) {
    this.root = root;
    this.audio = audio;
    this.slug = root.getAttribute("data-narrate");
    this.box = root.querySelector("[data-narrate-transcript]");
    this.nav = root.querySelector("[data-narrate-chapters]");
    this.tracks = Array.prototype.slice.call(audio.querySelectorAll("track"));
    this.sentences = this.box ?
      Array.prototype.map.call(this.box.querySelectorAll("[data-cue]"), sentence) : [];
    this.chapter = this.cue = this.word = -1;
    this.chapters = this.cues = this.words = [];
    this.userScrolled = this.frame = this.saved = 0;
    this.started = this.synced = false;
    this.waiting = [];
    this.focusable = null;
  }
  var P = Player.prototype;

  P.items = function (selector) {
    return Array.prototype.map.call(this.root.querySelectorAll(selector), function (el) {
      return { el: el, start: secs(el), end: parseFloat(el.getAttribute("data-end")) };
    });
  };

  /* The baked times are a fallback: the published tracks are the truth, so a fragment pasted
     before a rebuild still seeks to the right places. Sentences are matched by cue id; one
     whose cue is gone (its text was edited) keeps its baked time and is marked data-stale. */
  P.sync = function () {
    var self = this;
    this.tracks.forEach(function (t) {
      var list = t.readyState === 2 && t.track && t.track.cues;
      if (!list || !list.length) return;  // an empty track is no evidence
      if (t.kind === "chapters" && self.nav) self.syncChapters(list);
      if (t.kind === "captions") {
        self.sentences.forEach(function (s) {
          var c = list.getCueById(s.el.getAttribute("data-cue"));
          if (!c) { s.el.setAttribute("data-stale", ""); return; }
          setTimes(s.el, c);
          s.el.removeAttribute("data-stale");
          var exact = inlineStarts(c);
          if (exact && exact.length === s.words.length) {
            s.exact = exact;
            s.el.removeAttribute("data-word-estimated");
          }
        });
      }
    });
    this.chapters = this.items("[data-narrate-chapters] [data-start]");
    this.cues = this.sentences.filter(function (s) {
      timeWords(s);
      return !s.el.hasAttribute("data-stale");
    });
    this.words = [];
    this.cues.forEach(function (s) {
      s.words.forEach(function (w) { self.words.push({ el: w, start: secs(w), s: s }); });
    });
    each(this.root.querySelectorAll("[aria-current], [data-current]"), function (el) {
      el.removeAttribute("aria-current");
      el.removeAttribute("data-current");
    });
    this.chapter = this.cue = this.word = -1;
    this.update();
    this.summary();
    var loaded = this.tracks.filter(function (t) { return t.readyState === 2; }).length;
    if (loaded === this.tracks.length) this.root.setAttribute("data-narrate-synced", "");
    if (this.tracks.every(function (t) { return t.readyState >= 2; })) this.settle();
  };

  P.syncChapters = function (list) {
    var ol = this.nav.querySelector("ol"), buttons = this.nav.querySelectorAll("button");
    if (!ol) return;
    if (buttons.length !== list.length) {  // chapters were added or removed: rebuild the list
      ol.textContent = "";
      for (var i = 0; i < list.length; i++) {
        var li = document.createElement("li");
        li.innerHTML = '<button type="button"><span class="narrate-n" aria-hidden="true">' +
          (i + 1) + '</span><span class="narrate-title"></span> <time></time></button>';
        ol.appendChild(li);
      }
      buttons = this.nav.querySelectorAll("button");
    }
    each(list, function (c, i) {
      var b = buttons[i], time = b.querySelector("time");
      var title = b.querySelector(".narrate-title");
      setTimes(b, c);
      b.disabled = false;
      if (title) title.textContent = cueText(c);
      if (time) {
        time.textContent = clock(c.startTime);
        time.setAttribute("datetime", iso(c.startTime));
      }
    });
  };

  /* The length and chapter count shown in the head, from the audio the page really loaded. */
  P.summary = function () {
    var el = this.root.querySelector("[data-narrate-summary]"), n = this.chapters.length;
    var d = this.audio.duration;
    if (el && isFinite(d) && d > 0) {
      el.textContent = clock(d) + " \u00b7 " + n + " chapter" + (n === 1 ? "" : "s");
    }
  };

  /* Run the seeks that wait for the tracks (a deep link to a sentence, a resumed position). */
  P.settle = function () {
    this.synced = true;
    this.waiting.splice(0).forEach(function (f) { f(); });
  };

  /* Mark the chapter, sentence and word at the current time; runs every frame while playing. */
  P.update = function () {
    var a = this.audio, t = a.currentTime;
    // Nothing is marked until the listener plays or seeks: a fresh page stays calm.
    this.started = this.started || t > 0 || !a.paused;
    if (!this.started) return;
    var chapters = this.chapters, cues = this.cues;
    this.chapter = setCurrent(chapters, lastStarted(chapters, t), this.chapter, "aria-current");
    // A sentence stays current through the pause after it, until the next one starts,
    // but not into the next chapter.
    var next = lastStarted(cues, t);
    if (next >= 0 && (t > cues[next].end + 3 ||
        (this.chapter >= 0 && cues[next].start < chapters[this.chapter].start))) next = -1;
    var changed = next !== this.cue;
    this.cue = setCurrent(cues, next, this.cue, "aria-current");
    var w = lastStarted(this.words, t);
    if (w >= 0 && (next < 0 || this.words[w].s !== cues[next])) w = -1;
    this.word = setCurrent(this.words, w, this.word, "data-current");
    if (changed && next >= 0 && this.box) {
      if (!this.box.contains(document.activeElement)) this.rove(cues[next].el);
      if (!a.paused && Date.now() - this.userScrolled > 4000) this.reveal(cues[next].el);
    }
  };

  P.tick = function () {
    var self = this;
    this.frame = 0;
    this.update();
    if (!this.audio.paused) {
      this.frame = requestAnimationFrame(function () { self.tick(); });
    }
  };

  /* Scroll the transcript box (never the page) so the current sentence is in view. */
  P.reveal = function (el) {
    var box = this.box, top = el.offsetTop, bottom = top + el.offsetHeight;
    if (top < box.scrollTop || bottom > box.scrollTop + box.clientHeight) {
      var smooth = !(window.matchMedia && matchMedia("(prefers-reduced-motion: reduce)").matches);
      var to = Math.max(0, top - box.clientHeight / 3);
      if (box.scrollTo) box.scrollTo({ top: to, behavior: smooth ? "smooth" : "auto" });
      else box.scrollTop = to;
    }
  };

  /* Seek to t seconds, or (with el) t seconds after el starts, once the tracks are in. */
  P.seek = function (t, play, el) {
    var self = this, a = this.audio;
    function go() {
      var to = el ? secs(el) + (t || 0) : t;
      if (isFinite(a.duration)) to = Math.min(to, a.duration);
      self.started = true;
      a.currentTime = Math.max(0, to);
      self.update();
      // Show where the listener jumped to: the first sentence not yet over.
      for (var i = 0; self.box && i < self.cues.length; i++) {
        if (self.cues[i].end > to) { self.userScrolled = 0; self.reveal(self.cues[i].el); break; }
      }
      if (play) self.play();
    }
    function ready() {
      if (a.readyState >= 1) go();
      else a.addEventListener("loadedmetadata", go, { once: true });
    }
    if (el && !this.synced) this.waiting.push(ready); else ready();
  };

  P.play = function () {
    var p = this.audio.play();
    if (p && p.catch) p.catch(function () { /* blocked autoplay: the user presses play */ });
  };
  /* The label follows at once (the play and pause events come a task later, and correct it). */
  P.toggle = function () {
    if (this.audio.paused) this.play(); else this.audio.pause();
    this.showPlaying();
  };
  P.showPlaying = function () {
    var b = this.root.querySelector('[data-narrate-action="play"]');
    if (b) b.textContent = this.audio.paused ? "Play" : "Pause";
  };
  P.skip = function (d) { this.seek(this.audio.currentTime + d, false); };

  /* Previous chapter: the start of this one if more than 3 s in, else the one before. */
  P.chapterStep = function (step) {
    var t = this.audio.currentTime, i = lastStarted(this.chapters, t);
    if (step < 0 && i >= 0 && t - this.chapters[i].start > 3) step = 0;
    var to = this.chapters[Math.max(0, i + step)];
    if (to && (step <= 0 || i + step < this.chapters.length)) this.seek(to.start, false);
  };

  P.setRate = function (r) {
    this.audio.defaultPlaybackRate = this.audio.playbackRate = r;
    this.showRate();
  };
  P.rateStep = function (step) {
    var i = RATES.indexOf(this.audio.playbackRate);
    if (i < 0) i = RATES.indexOf(1);
    this.setRate(RATES[(i + step + RATES.length) % RATES.length]);
  };
  P.showRate = function () {
    var r = this.audio.playbackRate, el = this.root.querySelector("[data-narrate-rate]");
    if (el) el.textContent = r + "\u00d7";
    if (RATES.indexOf(r) >= 0) store(RATE_KEY, r);
    this.position();
  };

  P.act = function (name) {
    if (name === "play") this.toggle();
    else if (name === "back") this.skip(-BACK);
    else if (name === "forward") this.skip(FORWARD);
    else if (name === "prev-chapter") this.chapterStep(-1);
    else if (name === "next-chapter") this.chapterStep(1);
    else if (name === "speed") this.rateStep(1);
  };

  /* Roving tabindex: one sentence of the transcript is in the tab order at a time. */
  P.rove = function (el) {
    if (this.focusable === el) return;
    if (this.focusable) {
      this.focusable.setAttribute("tabindex", "-1");
      this.focusable.removeAttribute("aria-describedby");
    }
    this.focusable = el;
    el.setAttribute("tabindex", "0");
    el.setAttribute("aria-describedby", "narrate-" + this.slug + "-keys");
  };

  /* Arrow keys in the transcript: up/down between sentences, left/right between words. */
  P.moveFocus = function (target, key) {
    var all = this.sentences, s = target.closest("[data-cue]"), i = -1, k;
    for (k = 0; k < all.length; k++) if (all[k].el === s) i = k;
    if (i < 0) return false;
    var to = null, words = all[i].words, w = words.indexOf(target);
    if (key === "ArrowDown" && i + 1 < all.length) to = all[i + 1].el;
    else if (key === "ArrowUp" && i > 0) to = all[i - 1].el;
    else if (key === "Home") to = all[0].el;
    else if (key === "End") to = all[all.length - 1].el;
    else if (key === "ArrowRight") {
      to = w + 1 < words.length ? words[w + 1] : i + 1 < all.length ? all[i + 1].words[0] : null;
    } else if (key === "ArrowLeft") {
      var prev = i > 0 ? all[i - 1].words : [];
      to = w > 0 ? words[w - 1] : w < 0 && words.length ? words[0] : prev[prev.length - 1];
    } else return false;
    if (to) {
      this.rove(to.closest("[data-cue]"));
      if (!to.hasAttribute("tabindex")) to.setAttribute("tabindex", "-1");
      to.focus();
    }
    return true;
  };

  P.onKey = function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    var k = e.key, target = e.target, inBox = this.box && this.box.contains(target);
    var control = /^(BUTTON|A|INPUT|SELECT|TEXTAREA|AUDIO|VIDEO)$/.test(target.tagName);
    if (k === "k" || (k === " " && !control)) this.toggle();
    else if (k === "j") this.skip(-BACK);
    else if (k === "l") this.skip(FORWARD);
    else if (k === "<") this.rateStep(-1);
    else if (k === ">") this.rateStep(1);
    else if (inBox && k === "Enter" && target.closest("[data-cue]")) this.seek(secs(target), true);
    else if (inBox && k === "Tab" && e.shiftKey && target.hasAttribute("data-word-start")) {
      target.closest("[data-cue]").focus();  // so Shift+Tab leaves the transcript in one step
      return;
    } else if (!(inBox && this.moveFocus(target, k))) return;
    e.preventDefault();
  };

  /* The lock screen and media keys follow the narration that last started playing. */
  P.claimSession = function () {
    var ms = navigator.mediaSession, self = this, r = this.root;
    if (!ms) return;
    window.narrateSessionOwner = this.audio;
    try {
      var art = r.getAttribute("data-artwork");
      ms.metadata = new window.MediaMetadata({
        title: r.getAttribute("data-title") || document.title,
        artist: r.getAttribute("data-artist") || "",
        album: r.getAttribute("data-album") || "",
        artwork: art ? [{ src: art }] : []
      });
    } catch (e) { /* no MediaMetadata: the handlers still help */ }
    var handlers = {
      play: function () { self.play(); },
      pause: function () { self.audio.pause(); },
      seekbackward: function (d) { self.skip(-((d && d.seekOffset) || BACK)); },
      seekforward: function (d) { self.skip((d && d.seekOffset) || FORWARD); },
      seekto: function (d) { if (d && isFinite(d.seekTime)) self.seek(d.seekTime, false); },
      previoustrack: function () { self.chapterStep(-1); },
      nexttrack: function () { self.chapterStep(1); }
    };
    Object.keys(handlers).forEach(function (name) {
      try { ms.setActionHandler(name, handlers[name]); } catch (e) { /* not supported */ }
    });
    this.position();
  };
  P.position = function () {
    var ms = navigator.mediaSession, a = this.audio;
    if (!ms || window.narrateSessionOwner !== a) return;
    ms.playbackState = a.paused ? "paused" : "playing";
    if (!ms.setPositionState || !isFinite(a.duration) || a.duration <= 0) return;
    try {
      ms.setPositionState({ duration: a.duration, playbackRate: a.playbackRate || 1,
        position: Math.min(Math.max(a.currentTime, 0), a.duration) });
    } catch (e) { /* a rate of 0 or a position past the end: try at the next event */ }
  };

  /* Resume: where the listener is, as a sentence (cue id) and the seconds into it. */
  P.remember = function (force) {
    var a = this.audio, t = a.currentTime, key = SPOT_KEY + this.slug;
    if (!this.started) return;
    if (a.ended || (isFinite(a.duration) && t >= a.duration - 0.5)) { store(key, null); return; }
    if (!force && Math.abs(t - this.saved) < 1) return;
    this.saved = t;
    var s = this.cues[lastStarted(this.cues, t)];
    store(key, s ? { cue: s.el.getAttribute("data-cue"), offset: +(t - s.start).toFixed(3), t: t }
      : { t: t });
  };
  P.resume = function () {
    var spot = load(SPOT_KEY + this.slug);
    if (!spot || !isFinite(spot.t)) return;
    var el = spot.cue && document.getElementById("narrate-" + this.slug + "-" + spot.cue);
    if (el && this.root.contains(el)) this.seek(+spot.offset || 0, false, el);
    else this.seek(spot.t, false);
  };

  P.listen = function () {
    var self = this, a = this.audio, box = this.box;
    this.tracks.forEach(function (t) {
      // Hidden: the cues load (and fire cuechange) without being drawn over the player.
      if (t.track && t.track.mode === "disabled") t.track.mode = "hidden";
      t.addEventListener("load", function () { self.sync(); });
      t.addEventListener("error", function () { self.sync(); });
    });
    setTimeout(function () { self.settle(); }, 3000);  // tracks that never load: baked times
    [this.nav, box].forEach(function (area) {
      if (!area) return;
      area.addEventListener("click", function (e) {
        var el = e.target.closest && e.target.closest("[data-word-start], [data-start]");
        if (el && area.contains(el)) self.seek(secs(el), true);
      });
    });
    if (box) {
      ["wheel", "touchmove", "keydown"].forEach(function (type) {
        box.addEventListener(type, function () { self.userScrolled = Date.now(); },
          { passive: true });
      });
      box.addEventListener("focusin", function (e) {
        var s = e.target.closest && e.target.closest("[data-cue]");
        if (s) self.rove(s);
      });
    }
    this.root.addEventListener("keydown", function (e) { self.onKey(e); });
    each(this.root.querySelectorAll("[data-narrate-action]"), function (b) {
      if (b.tagName === "BUTTON") b.addEventListener("click", function () { self.act(b.getAttribute("data-narrate-action")); });
    });
    ["timeupdate", "seeked", "play", "pause", "loadedmetadata"].forEach(function (type) {
      a.addEventListener(type, function () { self.update(); self.position(); });
    });
    ["timeupdate", "seeked", "pause"].forEach(function (type) {
      a.addEventListener(type, function () { self.remember(type !== "timeupdate"); });
    });
    a.addEventListener("ended", function () { store(SPOT_KEY + self.slug, null); });
    window.addEventListener("pagehide", function () { self.remember(true); });
    a.addEventListener("durationchange", function () { self.summary(); self.position(); });
    a.addEventListener("ratechange", function () { self.showRate(); });
    a.addEventListener("play", function () {
      // One narration at a time: starting this one pauses the others on the page.
      each(document.querySelectorAll(ROOT + " audio"), function (other) {
        if (other !== a && !other.paused) other.pause();
      });
      self.claimSession();
      if (!self.frame) self.tick();
    });
    ["play", "pause"].forEach(function (type) {
      a.addEventListener(type, function () { self.showPlaying(); });
    });
  };

  P.start = function () {
    var root = this.root, rate = load(RATE_KEY);
    this.sync();
    this.chapters.forEach(function (c) { c.el.disabled = false; });
    this.sentences.forEach(function (s) { s.el.setAttribute("tabindex", "-1"); });
    if (this.sentences.length) {
      this.rove(this.sentences[0].el);
      this.box.removeAttribute("tabindex");  // the sentence is the way in now
    }
    each(root.querySelectorAll("[data-narrate-buttons], .narrate-keys"), function (el) {
      el.hidden = false;
    });
    this.listen();
    if (RATES.indexOf(rate) >= 0) this.setRate(rate);
    this.showRate();
    if (!linkedHere(root)) this.resume();
  };

  /* The deep link on the page: {t} for the first narration, or an element id of a sentence. */
  function link() {
    var hash = decodeURIComponent(location.hash.slice(1));
    var query = new URLSearchParams(location.search).get("t");
    var m = /(?:^|&)t=([^&]+)/.exec(hash);
    return { hash: hash, t: parseTime(m ? m[1] : query || "") };
  }
  function linkedHere(root) {
    var l = link(), slug = root.getAttribute("data-narrate");
    if (l.hash.indexOf("narrate-" + slug + "-") === 0) return true;
    return isFinite(l.t) && document.querySelector(ROOT) === root;
  }

  /* #t=83.5 or ?t=1:23.5 seeks the first narration; #narrate-SLUG-s-... seeks to that sentence. */
  function follow() {
    var l = link(), t = l.t;
    var root = document.querySelector(ROOT), el = l.hash && document.getElementById(l.hash);
    if (el && el.hasAttribute("data-start") && el.closest(ROOT)) {
      root = el.closest(ROOT);
      t = 0;
    } else {
      el = null;
    }
    if (root && root.narrateSeek && isFinite(t)) root.narrateSeek(t, false, el);
  }

  each(document.querySelectorAll(ROOT), wire);
  // The first script on the page owns deep links; later copies only wire their fragments.
  if (!document.documentElement.hasAttribute("data-narrate-links")) {
    document.documentElement.setAttribute("data-narrate-links", "");
    // Wait for the whole page: the linked sentence may be in a fragment further down.
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        each(document.querySelectorAll(ROOT), wire);
        follow();
      });
    } else {
      follow();
    }
    window.addEventListener("hashchange", follow);
  }
})();
