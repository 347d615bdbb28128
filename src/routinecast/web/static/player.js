// routinecast share: chapter buttons, the caption line, and the lock screen (Media Session).
"use strict";

(function () {
  const artwork = document.body.dataset.artwork;
  const routines = Array.from(document.querySelectorAll("article.routine"));

  function starts(article) {
    return Array.from(article.querySelectorAll("button[data-start]"), (b) => Number(b.dataset.start));
  }

  function current(times, at) {
    let index = -1;
    times.forEach((start, i) => { if (start <= at + 0.05) index = i; });
    return index;
  }

  function jump(audio, seconds) {
    audio.currentTime = seconds;
    const playing = audio.play();
    if (playing) playing.catch(() => {});
  }

  function next(article, audio) {
    const later = starts(article).find((start) => start > audio.currentTime + 0.5);
    if (later !== undefined) jump(audio, later);
  }

  function previous(article, audio) {
    const times = starts(article);
    const index = current(times, audio.currentTime);
    if (index < 0) return jump(audio, 0);
    const into = audio.currentTime - times[index];
    jump(audio, into > 3 || index === 0 ? times[index] : times[index - 1]);
  }

  function highlight(article, audio) {
    const index = current(starts(article), audio.currentTime);
    article.querySelectorAll("button[data-start]").forEach((button, i) => {
      button.setAttribute("aria-current", i === index ? "true" : "false");
    });
  }

  function session(article, audio) {
    if (!("mediaSession" in navigator)) return;
    const chapter = article.querySelector('button[aria-current="true"]');
    navigator.mediaSession.metadata = new MediaMetadata({
      title: article.dataset.title,
      artist: "routinecast",
      album: chapter ? chapter.dataset.title : "",
      artwork: [{ src: artwork, sizes: "1400x1400", type: "image/png" }],
    });
    const handlers = {
      nexttrack: () => next(article, audio),
      previoustrack: () => previous(article, audio),
      play: () => audio.play(),
      pause: () => audio.pause(),
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch (e) { /* not offered */ }
    }
  }

  function captions(article, audio) {
    const line = article.querySelector(".caption");
    const track = audio.textTracks[0];
    if (!track || !line) return;
    track.mode = "hidden";
    track.addEventListener("cuechange", () => {
      const cue = track.activeCues && track.activeCues[0];
      line.textContent = cue ? cue.text : "";
    });
  }

  routines.forEach((article) => {
    const audio = article.querySelector("audio");
    if (!audio) return;
    article.querySelectorAll("button[data-start]").forEach((button) => {
      button.addEventListener("click", () => jump(audio, Number(button.dataset.start)));
    });
    audio.addEventListener("play", () => {
      routines.forEach((other) => {
        const player = other.querySelector("audio");
        if (player && player !== audio) player.pause();
      });
      highlight(article, audio);
      session(article, audio);
    });
    audio.addEventListener("timeupdate", () => {
      const before = article.querySelector('button[aria-current="true"]');
      highlight(article, audio);
      if (article.querySelector('button[aria-current="true"]') !== before && !audio.paused) {
        session(article, audio);
      }
    });
    captions(article, audio);
  });
})();
