// The ring of an incoming offer: a two-tone chime every two seconds through WebAudio (no
// audio file to load). Browsers let audio start only after a user gesture: `unlock` is
// called from the sign-in click (and any later click), so offers ring without one.

let context = null;
let timer = null;

export function unlock() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (context === null) context = new Context();
  if (context.state === 'suspended') context.resume().catch(() => {});
}

function chime() {
  if (context === null || context.state !== 'running') return;
  const start = context.currentTime;
  [880, 660].forEach((frequency, index) => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + index * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.2, start + index * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + index * 0.25 + 0.22);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + index * 0.25);
    oscillator.stop(start + index * 0.25 + 0.25);
  });
}

/** Ring while `on` (idempotent); the `data-ringing` attribute on <body> says so. */
export function ring(on) {
  document.body.dataset.ringing = on ? 'true' : 'false';
  if (on && timer === null) {
    chime();
    timer = setInterval(chime, 2000);
  } else if (!on && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}
