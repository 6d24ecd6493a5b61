// DeviceCheck: the camera and microphone check a visitor sees before joining a call. It shows the
// camera (mirrored), a microphone level meter, and camera / microphone / speaker choices, says in
// plain words what is going on, and reports the outcome through onChange and onProblem. The
// chosen ids stay on window.__cviDevices for the call that follows. Every track is stopped on
// unmount and when `enabled` turns false, so the call can take the camera.
import React, { useCallback, useEffect, useId, useRef, useState } from "react";
import { useCallEvents } from "./call_shared.js";

const SAY = {
  off: "Your camera and microphone are off.",
  checking: "Checking your camera and microphone…",
  ready: "Your camera and microphone are ready.",
  noCamera:
    "Your microphone is ready, but we could not find a camera. " +
    "You can still join; others will hear you but not see you.",
  noMicrophone:
    "Your camera is ready, but we could not find a microphone. " +
    "You can still join and type your words.",
  denied:
    "Your browser is blocking the camera and microphone. Allow them for this site " +
    "(look for the camera icon in the address bar), then choose Try again.",
  no_devices: "We could not find a camera or microphone. You can still join and type your words.",
  busy: "Another app is using your camera or microphone. Close it, then choose Try again.",
  other:
    "Something stopped your camera and microphone from starting. " +
    "Choose Try again, or join and type your words.",
};
const METER_EVERY_MS = 100; // at most ~10 meter renders a second

const s = {
  root: { display: "grid", gap: "var(--space-3)", maxWidth: "100%", minWidth: 0 },
  video: {
    width: "100%", aspectRatio: "4 / 3", objectFit: "cover", display: "block",
    borderRadius: "var(--radius-4)", background: "var(--gray-a3)", transform: "scaleX(-1)",
  },
  meter: {
    height: "var(--space-2)", borderRadius: "var(--radius-full)",
    background: "var(--gray-a4)", overflow: "hidden",
  },
  bar: (level) => ({ height: "100%", width: `${level}%`, background: "var(--accent-9)" }),
  field: { display: "grid", gap: "var(--space-1)", minWidth: 0 },
  label: { fontSize: "var(--font-size-2)", fontWeight: "var(--font-weight-medium)" },
  select: {
    width: "100%", minWidth: 0, padding: "var(--space-2) var(--space-3)",
    fontSize: "var(--font-size-3)", border: "1px solid var(--gray-a7)",
    borderRadius: "var(--radius-2)", background: "var(--color-surface)", color: "var(--gray-12)",
  },
  text: { margin: 0, fontSize: "var(--font-size-2)", color: "var(--gray-11)" },
  status: { margin: 0, fontSize: "var(--font-size-3)", color: "var(--gray-12)" },
  button: (busy) => ({
    justifySelf: "start", padding: "var(--space-2) var(--space-4)", fontSize: "var(--font-size-3)",
    fontWeight: "var(--font-weight-medium)", border: 0, borderRadius: "var(--radius-2)",
    color: "var(--accent-contrast)", background: "var(--accent-9)",
    cursor: busy ? "progress" : "pointer", opacity: busy ? 0.7 : 1,
  }),
};

const stopAll = (stream) => stream?.getTracks().forEach((track) => track.stop());
const trackId = (stream, kind) =>
  stream?.getTracks().find((t) => t.kind === kind)?.getSettings().deviceId || "";
const want = (id) => (id ? { deviceId: { exact: id } } : true);
const problemOf = ({ name } = {}) =>
  name === "NotAllowedError" || name === "SecurityError" ? "denied"
    : name === "NotFoundError" || name === "OverconstrainedError" ? "no_devices" : "other";
const RETRY = ["denied", "busy", "other"]; // the problems "Try again" may mend

/** The microphone's level, 0-100, from the stream's audio track (re-rendered ~10 times a s). */
function useMicLevel(stream) {
  const [level, setLevel] = useState(0);
  const audio = stream?.getAudioTracks()[0];
  useEffect(() => {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio || !Context) {
      setLevel(0);
      return undefined;
    }
    const context = new Context();
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    context.createMediaStreamSource(new MediaStream([audio])).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const wake = () => context.state === "suspended" && context.resume().catch(() => {});
    wake();
    window.addEventListener("pointerdown", wake); // autoplay rules may hold it until a gesture
    window.addEventListener("keydown", wake);
    let frame = 0, last = 0, peak = 0, shown = -1;
    const tick = (now) => {
      analyser.getByteTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += ((v - 128) / 128) ** 2;
      peak = Math.max(peak, Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 400)));
      if (now - last >= METER_EVERY_MS) {
        if (peak !== shown) setLevel((shown = peak));
        last = now;
        peak = 0;
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener("pointerdown", wake);
      window.removeEventListener("keydown", wake);
      context.close().catch(() => {});
    };
  }, [audio]);
  return level;
}

function Choice({ label, value, options, onChange }) {
  const id = useId();
  return (
    <div style={s.field}>
      <label htmlFor={id} style={s.label}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} style={s.select}>
        {options.map((d, i) => (
          <option key={d.deviceId || i} value={d.deviceId}>
            {d.label || `${label} ${i + 1}`}
          </option>
        ))}
      </select>
    </div>
  );
}

export function DeviceCheck(props) {
  const { id, enabled = true, className, style } = props;
  const fire = useCallEvents("DeviceCheck", props); // the latest on_change / on_problem

  const [stream, setStream] = useState(null);
  const [phase, setPhase] = useState("checking"); // ready, denied, no_devices, busy, other
  const [retry, setRetry] = useState(false); // keep "Try again" (and its focus) while retrying
  const [list, setList] = useState({ videoinput: [], audioinput: [], audiooutput: [] });
  const [speakerId, setSpeakerId] = useState("");
  const streamRef = useRef(null);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;
  const turn = useRef(0); // the latest request: an older one that finishes late is dropped
  const level = useMicLevel(stream);

  const use = useCallback((next) => {
    if (streamRef.current && streamRef.current !== next) {
      const keep = new Set(next?.getTracks() ?? []);
      streamRef.current.getTracks().forEach((t) => keep.has(t) || t.stop());
    }
    streamRef.current = next;
    setStream(next);
  }, []);

  const listDevices = useCallback(async () => {
    const all = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    const byKind = { videoinput: [], audioinput: [], audiooutput: [] };
    for (const d of all) byKind[d.kind]?.push(d);
    setList(byKind);
    return byKind;
  }, []);

  // Ask for both kinds; when one is missing, settle for the other and say which one is missing.
  const start = useCallback(async () => {
    const mine = ++turn.current;
    use(null);
    setPhase("checking");
    const ask = (c) => navigator.mediaDevices.getUserMedia(c);
    let next = null, problem = null;
    try {
      if (!navigator.mediaDevices?.getUserMedia) {
        const why = new Error("navigator.mediaDevices is unavailable (not a secure page?)");
        throw Object.assign(why, { name: "NotSupportedError" });
      }
      next = await ask({ video: true, audio: true });
    } catch (error) {
      problem = error;
      if (problemOf(error) === "no_devices") {
        next = await ask({ audio: true }).catch(() => ask({ video: true })).catch(() => null);
        if (next) problem = null;
      }
    }
    if (mine !== turn.current) return stopAll(next);
    use(next);
    if (next) await listDevices();
    const kind = problem ? problemOf(problem) : "ready";
    const shown = kind === "other" && problem.name === "NotReadableError" ? "busy" : kind;
    setPhase(shown);
    setRetry(RETRY.includes(shown));
    if (problem) fire("onProblem", kind, `${problem.name}: ${problem.message}`);
  }, [fire, listDevices, use]);

  // Re-acquire one kind on a new choice, keep the other track, stop the old one.
  const choose = useCallback(async (kind, deviceId) => {
    const mine = ++turn.current;
    const current = streamRef.current;
    try {
      const got = await navigator.mediaDevices.getUserMedia({ [kind]: want(deviceId) });
      if (mine !== turn.current) return stopAll(got);
      const other = current?.getTracks().filter((t) => t.kind !== kind) ?? [];
      use(new MediaStream([...other, ...got.getTracks()]));
    } catch (error) {
      fire("onProblem", problemOf(error), `${error.name}: ${error.message}`);
    }
  }, [fire, use]);

  useEffect(() => {
    if (!enabled) return undefined;
    start();
    // A device came or went: start again if ours went, or one we lacked is there now.
    const changed = async () => {
      const now = await listDevices();
      const off = (list, kind) => {
        const mine = trackId(streamRef.current, kind);
        return mine ? !list.some((d) => d.deviceId === mine) : list.length > 0;
      };
      const waiting = phaseRef.current === "no_devices" || phaseRef.current === "ready";
      if (waiting && (off(now.videoinput, "video") || off(now.audioinput, "audio"))) start();
    };
    navigator.mediaDevices?.addEventListener?.("devicechange", changed);
    return () => {
      turn.current += 1;
      navigator.mediaDevices?.removeEventListener?.("devicechange", changed);
      use(null);
      setPhase("checking");
      setRetry(false);
    };
  }, [enabled, start, listDevices, use]);

  const cameraId = trackId(stream, "video");
  const microphoneId = trackId(stream, "audio");
  // Only once there is a stream, so never while rendering on the server.
  const speakers = stream && "setSinkId" in HTMLMediaElement.prototype ? list.audiooutput : [];
  const chosen = speakers.some((d) => d.deviceId === speakerId);
  const speaker = chosen ? speakerId : speakers[0]?.deviceId || "";
  const checking = phase === "checking";
  const settled = enabled && !checking;
  const problem = phase === "busy" ? "other" : phase === "ready" ? "" : phase;

  // Report when the check settles or a choice changes (once per distinct outcome).
  const reported = useRef("");
  useEffect(() => {
    if (!settled) return;
    window.__cviDevices = { cameraId, microphoneId, speakerId: speaker };
    const devices = {
      camera_ok: Boolean(cameraId), microphone_ok: Boolean(microphoneId),
      camera_id: cameraId, microphone_id: microphoneId, speaker_id: speaker, problem,
    };
    const key = JSON.stringify(devices);
    if (key !== reported.current) fire("onChange", ((reported.current = key), devices));
  }, [settled, cameraId, microphoneId, speaker, problem, fire]);
  useEffect(() => () => { reported.current = ""; }, [enabled]);

  const videoRef = useRef(null);
  useEffect(() => {
    const video = videoRef.current;
    if (video && video.srcObject !== stream) video.srcObject = stream;
    video?.play?.().catch(() => {});
  }, [stream, cameraId]);

  const status = !enabled ? SAY.off
    : phase !== "ready" ? SAY[phase]
    : !cameraId ? SAY.noCamera : !microphoneId ? SAY.noMicrophone : SAY.ready;
  return (
    <div id={id} className={className} style={{ ...s.root, ...style }}>
      {cameraId ? (
        <video ref={videoRef} aria-label="Camera preview" autoPlay muted playsInline
          style={s.video} />
      ) : null}
      {microphoneId ? (
        <div role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100}
          aria-valuenow={level} style={s.meter}>
          <div style={s.bar(level)} />
        </div>
      ) : null}
      <p role="status" style={s.status}>{status}</p>
      {retry ? (
        // Stays (and keeps focus) while the check runs again; aria-disabled, not disabled,
        // as a disabled button would drop the focus.
        <button type="button" aria-disabled={checking} style={s.button(checking)}
          onClick={() => checking || start()}>
          Try again
        </button>
      ) : null}
      {cameraId ? (
        <Choice label="Camera" value={cameraId} options={list.videoinput}
          onChange={(v) => choose("video", v)} />
      ) : null}
      {microphoneId ? (
        <Choice label="Microphone" value={microphoneId} options={list.audioinput}
          onChange={(v) => choose("audio", v)} />
      ) : null}
      {stream && !checking ? (
        speakers.length ? (
          <Choice label="Speaker" value={speaker} options={speakers} onChange={setSpeakerId} />
        ) : (
          <p style={s.text}>Sound plays on your device's default speaker.</p>
        )
      ) : null}
    </div>
  );
}
