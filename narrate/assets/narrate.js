/* narrate player: chapter list, live transcript and deep links for a narrate fragment.
   No dependencies. Safe to include once per fragment: it wires every [data-narrate] root on
   the page that is not wired yet. Without it the <audio> element still plays. */
(function () {
  "use strict";
  var ROOT = "[data-narrate]";

  function secs(el) { return parseFloat(el.getAttribute("data-start")) || 0; }

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

  function setCurrent(list, index, previous) {
    if (index === previous) return index;
    if (previous >= 0) list[previous].el.removeAttribute("aria-current");
    if (index >= 0) list[index].el.setAttribute("aria-current", "true");
    return index;
  }

  function wire(root) {
    var audio = root.querySelector("audio");
    if (!audio || root.hasAttribute("data-narrate-ready")) return;
    root.setAttribute("data-narrate-ready", "");
    var box = root.querySelector("[data-narrate-transcript]");
    var nav = root.querySelector("[data-narrate-chapters]");
    var tracks = Array.prototype.slice.call(audio.querySelectorAll("track"));
    function items(selector) {
      return Array.prototype.map.call(root.querySelectorAll(selector), function (el) {
        return { el: el, start: secs(el), end: parseFloat(el.getAttribute("data-end")) };
      });
    }
    var chapters, cues, chapter = -1, cue = -1, userScrolled = 0, started = false;
    var synced = false, waiting = [];

    /* The baked times are a fallback: the published tracks are the truth, so a fragment pasted
       before a rebuild still seeks to the right places. Sentences are matched by cue id; one
       whose cue is gone (its text was edited) keeps its baked time and is marked data-stale. */
    function sync() {
      tracks.forEach(function (t) {
        var list = t.readyState === 2 && t.track && t.track.cues;
        if (!list || !list.length) return;  // an empty track is no evidence
        if (t.kind === "chapters" && nav) syncChapters(list);
        if (t.kind === "captions" && box) {
          Array.prototype.forEach.call(box.querySelectorAll("[data-cue]"), function (el) {
            var c = list.getCueById(el.getAttribute("data-cue"));
            if (c) { setTimes(el, c); el.removeAttribute("data-stale"); }
            else el.setAttribute("data-stale", "");
          });
        }
      });
      chapters = items("[data-narrate-chapters] [data-start]");
      cues = items("[data-narrate-transcript] [data-start]:not([data-stale])");
      if (chapter >= 0 || cue >= 0) {
        Array.prototype.forEach.call(root.querySelectorAll("[aria-current]"), function (el) {
          el.removeAttribute("aria-current");
        });
        chapter = cue = -1;
        update();
      }
      summary();
      var loaded = tracks.filter(function (t) { return t.readyState === 2; }).length;
      if (loaded === tracks.length) root.setAttribute("data-narrate-synced", "");
      if (tracks.every(function (t) { return t.readyState >= 2; })) settle();  // or failed
    }

    function syncChapters(list) {
      var ol = nav.querySelector("ol"), buttons = nav.querySelectorAll("button");
      if (!ol) return;
      if (buttons.length !== list.length) {  // chapters were added or removed: rebuild the list
        ol.textContent = "";
        for (var i = 0; i < list.length; i++) {
          var li = document.createElement("li");
          li.innerHTML = '<button type="button"><span class="narrate-n" aria-hidden="true">' +
            (i + 1) + '</span><span class="narrate-title"></span> <time></time></button>';
          ol.appendChild(li);
        }
        buttons = nav.querySelectorAll("button");
      }
      Array.prototype.forEach.call(list, function (c, i) {
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
    }

    /* The length and chapter count shown in the head, from the audio the page really loaded. */
    function summary() {
      var el = root.querySelector("[data-narrate-summary]"), n = chapters.length;
      if (el && isFinite(audio.duration) && audio.duration > 0) {
        el.textContent = clock(audio.duration) + " \u00b7 " + n +
          " chapter" + (n === 1 ? "" : "s");
      }
    }

    /* Run the seeks that wait for the tracks (a deep link to a sentence). */
    function settle() {
      synced = true;
      waiting.splice(0).forEach(function (f) { f(); });
    }

    function update() {
      var t = audio.currentTime;
      // Nothing is marked until the listener plays or seeks: a fresh page stays calm.
      started = started || t > 0 || !audio.paused;
      if (!started) return;
      chapter = setCurrent(chapters, lastStarted(chapters, t), chapter);
      // A sentence stays current through the pause after it, until the next one starts,
      // but not into the next chapter.
      var next = lastStarted(cues, t);
      if (next >= 0 && (t > cues[next].end + 3 ||
          (chapter >= 0 && cues[next].start < chapters[chapter].start))) next = -1;
      var changed = next !== cue;
      cue = setCurrent(cues, next, cue);
      if (changed && cue >= 0 && box && !audio.paused && Date.now() - userScrolled > 4000) {
        reveal(cues[cue].el);
      }
    }

    /* Scroll the transcript box (never the page) so the current sentence is in view. */
    function reveal(el) {
      var top = el.offsetTop, bottom = top + el.offsetHeight;
      if (top < box.scrollTop || bottom > box.scrollTop + box.clientHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      }
    }

    /* Seek to t seconds, or (with el) to where el starts once the tracks are in. */
    function seek(t, play, el) {
      function go() {
        if (el) t = secs(el);
        started = true;
        audio.currentTime = t;
        update();
        // Show where the listener jumped to: the first sentence not yet over.
        for (var i = 0; box && i < cues.length; i++) {
          if (cues[i].end > t) { userScrolled = 0; reveal(cues[i].el); break; }
        }
        if (play) {
          var p = audio.play();
          if (p && p.catch) p.catch(function () { /* blocked autoplay: the user presses play */ });
        }
      }
      function ready() {
        if (audio.readyState >= 1) go();
        else audio.addEventListener("loadedmetadata", go, { once: true });
      }
      if (el && !synced) waiting.push(ready); else ready();
    }
    root.narrateSeek = seek;

    sync();
    chapters.forEach(function (c) { c.el.disabled = false; });
    tracks.forEach(function (t) {
      // Hidden: the cues load (and fire cuechange) without being drawn over the player.
      if (t.track && t.track.mode === "disabled") t.track.mode = "hidden";
      t.addEventListener("load", sync);
      t.addEventListener("error", sync);
    });
    setTimeout(settle, 3000);  // a browser that never loads the tracks keeps the baked times
    [nav, box].forEach(function (area) {
      if (!area) return;
      area.addEventListener("click", function (e) {
        var el = e.target.closest && e.target.closest("[data-start]");
        if (el && area.contains(el)) seek(secs(el), true);
      });
    });
    if (box) {
      ["wheel", "touchmove", "keydown"].forEach(function (type) {
        box.addEventListener(type, function () { userScrolled = Date.now(); }, { passive: true });
      });
    }
    ["timeupdate", "seeked", "play", "loadedmetadata"].forEach(function (type) {
      audio.addEventListener(type, update);
    });
    audio.addEventListener("durationchange", summary);
    // One narration at a time: starting this one pauses the others on the page.
    audio.addEventListener("play", function () {
      Array.prototype.forEach.call(document.querySelectorAll(ROOT + " audio"), function (other) {
        if (other !== audio && !other.paused) other.pause();
      });
    });
  }

  /* #t=83.5 or ?t=1:23.5 seeks the first narration; #narrate-SLUG-s-... seeks to that sentence. */
  function follow() {
    var hash = decodeURIComponent(location.hash.slice(1));
    var query = new URLSearchParams(location.search).get("t");
    var m = /(?:^|&)t=([^&]+)/.exec(hash);
    var t = parseTime(m ? m[1] : query || "");
    var root = document.querySelector(ROOT), el = hash && document.getElementById(hash);
    if (el && el.hasAttribute("data-start") && el.closest(ROOT)) {
      root = el.closest(ROOT);
      t = secs(el);
    } else {
      el = null;
    }
    if (root && root.narrateSeek && isFinite(t)) root.narrateSeek(t, false, el);
  }

  Array.prototype.forEach.call(document.querySelectorAll(ROOT), wire);
  // The first script on the page owns deep links; later copies only wire their fragments.
  if (!document.documentElement.hasAttribute("data-narrate-links")) {
    document.documentElement.setAttribute("data-narrate-links", "");
    // Wait for the whole page: the linked sentence may be in a fragment further down.
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        Array.prototype.forEach.call(document.querySelectorAll(ROOT), wire);
        follow();
      });
    } else {
      follow();
    }
    window.addEventListener("hashchange", follow);
  }
})();
