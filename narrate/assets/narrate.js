/* narrate player: chapter list, live transcript and deep links for a narrate fragment.
   No dependencies. Safe to include once per fragment: it wires every [data-narrate] root on
   the page that is not wired yet. Without it the <audio> element still plays. */
(function () {
  "use strict";
  var ROOT = "[data-narrate]";

  function secs(el) { return parseFloat(el.getAttribute("data-start")) || 0; }

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
    function items(selector) {
      return Array.prototype.map.call(root.querySelectorAll(selector), function (el) {
        return { el: el, start: secs(el), end: parseFloat(el.getAttribute("data-end")) };
      });
    }
    var chapters = items("[data-narrate-chapters] [data-start]");
    var cues = items("[data-narrate-transcript] [data-start]");
    var chapter = -1, cue = -1, userScrolled = 0, started = false;

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

    function seek(t, play) {
      function go() {
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
      if (audio.readyState >= 1) go();
      else audio.addEventListener("loadedmetadata", go, { once: true });
    }
    root.narrateSeek = seek;

    chapters.forEach(function (c) {
      c.el.disabled = false;
      c.el.addEventListener("click", function () { seek(c.start, true); });
    });
    if (box) {
      box.addEventListener("click", function (e) {
        var el = e.target.closest && e.target.closest("[data-start]");
        if (el && box.contains(el)) seek(secs(el), true);
      });
      ["wheel", "touchmove", "keydown"].forEach(function (type) {
        box.addEventListener(type, function () { userScrolled = Date.now(); }, { passive: true });
      });
    }
    ["timeupdate", "seeked", "play", "loadedmetadata"].forEach(function (type) {
      audio.addEventListener(type, update);
    });
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
    }
    if (root && root.narrateSeek && isFinite(t)) root.narrateSeek(t, false);
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
