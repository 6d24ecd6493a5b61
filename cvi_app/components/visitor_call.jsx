// VisitorCall: what a visitor sees in a Tavus conversation, on the Daily call object
// (@daily-co/daily-react over @daily-co/daily-js) rather than the Prebuilt iframe: the replica
// as the main view (video, audio, an outline while it speaks, live captions), the visitor's own
// camera small in a corner, the call's buttons and a status line in plain words. The call itself
// (join, leave, events, the replica's app-messages) is useVisitorCall in visitor_room.js.
//
// Colours, spacing, radii and type sizes are the Radix theme's tokens, so the view follows the
// app's theme in light and dark; what lies on the video (badge, captions) uses the black and
// white overlays, which stay the same in both. Layout follows the component's own width
// (container queries): phone first, a wider stage and labelled buttons from 520 px. With
// `transparent`, the replica's video (a Tavus greenscreen) is chroma-keyed (chroma_key.js) over
// the page's own background, and its region has no fill.
import React, { useCallback, useEffect, useRef, useState } from "react";
import {
  DailyAudio,
  DailyProvider,
  DailyVideo,
  useActiveSpeakerId,
  useAudioTrack,
  useDaily,
  useDevices,
  useLocalSessionId,
  useParticipantIds,
  useScreenShare,
  useVideoTrack,
} from "@daily-co/daily-react";
import { useCallEvents } from "./call_shared.js";
import { ChromaKeyVideo } from "./chroma_key.js";
import { SAY, isReplica, useVisitorCall } from "./visitor_room.js";

const DEFAULT_ACCENT = "var(--accent-9)";
const BLOCKED_NOTE =
  "Your browser is blocking the camera or microphone, so the agent may not see or hear you. " +
  "Allow them for this site in the address bar.";

const CSS = `
.cvi-vc { container-type: inline-size; display: grid; gap: var(--space-3); min-width: 0;
  color: var(--gray-12); }
.cvi-vc-status { margin: 0; font-size: var(--font-size-3); line-height: var(--line-height-3); }
.cvi-vc-note { margin: 0; font-size: var(--font-size-2); color: var(--gray-11); }
.cvi-vc-stage { position: relative; width: 100%; aspect-ratio: 3 / 4; max-height: 70vh; }
.cvi-vc-replica { position: absolute; inset: 0; overflow: hidden; border-radius: var(--radius-4);
  background: var(--gray-a3); outline: 4px solid transparent; outline-offset: 2px;
  transition: outline-color 150ms; will-change: transform; }
.cvi-vc-replica[data-transparent="true"] { background: transparent; }
.cvi-vc-video { display: block; width: 100%; height: 100%; object-fit: cover; }
.cvi-vc-placeholder { position: absolute; inset: 0; display: grid; place-items: center; margin: 0;
  padding: var(--space-4); text-align: center; font-size: var(--font-size-3);
  color: var(--gray-11); }
.cvi-vc-badge { position: absolute; left: var(--space-3); top: var(--space-3);
  padding: var(--space-1) var(--space-2); border-radius: max(var(--radius-2), var(--radius-full));
  font-size: var(--font-size-2); line-height: var(--line-height-2);
  color: var(--white-a12); background: var(--black-a9); }
.cvi-vc-captions { position: absolute; left: var(--space-3); right: var(--space-3);
  bottom: var(--space-3); margin: 0; text-align: center; font-size: var(--font-size-3);
  line-height: var(--line-height-3); will-change: transform; }
.cvi-vc-captions span { padding: 0 var(--space-2); border-radius: var(--radius-2);
  color: var(--white-a12); background: var(--black-a9);
  box-decoration-break: clone; -webkit-box-decoration-break: clone; }
.cvi-vc-self { position: absolute; top: var(--space-3); right: var(--space-3); width: 30%;
  max-width: 200px; aspect-ratio: 3 / 4; overflow: hidden; border-radius: var(--radius-3);
  background: var(--gray-3); box-shadow: 0 0 0 2px var(--black-a5); }
.cvi-vc-self .cvi-vc-placeholder { padding: var(--space-1); font-size: var(--font-size-1); }
.cvi-vc-controls { display: flex; flex-wrap: wrap; justify-content: center; gap: var(--space-2); }
.cvi-vc-button { position: relative; display: inline-flex; align-items: center;
  justify-content: center; gap: var(--space-2); width: 48px; height: 48px; padding: 0;
  border: 1px solid var(--gray-a7); border-radius: max(var(--radius-3), var(--radius-full));
  background: var(--color-surface); color: var(--gray-12); font: inherit;
  font-size: var(--font-size-2); font-weight: var(--font-weight-medium); cursor: pointer; }
.cvi-vc-button:hover { background: var(--gray-a3); }
.cvi-vc-button:focus-visible { outline: 2px solid var(--accent-8); outline-offset: 2px; }
.cvi-vc-button[data-off="true"] { color: var(--gray-1); background: var(--gray-12);
  border-color: var(--gray-12); }
.cvi-vc-button[data-leave="true"] { color: var(--red-11); background: var(--red-a3);
  border-color: var(--red-a7); }
.cvi-vc-button[aria-disabled="true"] { color: var(--gray-11); background: var(--gray-a2);
  border-style: dashed; cursor: not-allowed; }
.cvi-vc-button svg { width: 20px; height: 20px; flex: none; }
.cvi-vc-label { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.cvi-vc-button[data-wide="true"] { width: auto; height: auto; min-height: 44px;
  padding: 0 var(--space-4); }
.cvi-vc-button[data-wide="true"] .cvi-vc-label { position: static; width: auto; height: auto;
  margin: 0; overflow: visible; clip: auto; }
@container (min-width: 520px) {
  .cvi-vc-stage { aspect-ratio: 16 / 9; }
  .cvi-vc-self { width: 22%; aspect-ratio: 4 / 3; }
  .cvi-vc-captions { font-size: var(--font-size-4); line-height: var(--line-height-4); }
  .cvi-vc-button { width: auto; height: auto; min-height: 44px; padding: 0 var(--space-4); }
  .cvi-vc-label { position: static; width: auto; height: auto; margin: 0; overflow: visible;
    clip: auto; }
}
@media (prefers-reduced-motion: reduce) { .cvi-vc-replica { transition: none; } }
`;

// Lucide icons (ISC licence), drawn inline so the component needs no icon package.
const ICONS = {
  mic: ["M12 19v3", "M19 10v2a7 7 0 0 1-14 0v-2", "M12 2a3 3 0 0 1 3 3v7a3 3 0 0 1-6 0V5a3 3 0 0 1 3-3z"],
  micOff: [
    "M12 19v3", "M15 9.34V5a3 3 0 0 0-5.68-1.33", "M16.95 16.95A7 7 0 0 1 5 12v-2",
    "M18.89 13.23A7 7 0 0 0 19 12v-2", "m2 2 20 20", "M9 9v3a3 3 0 0 0 5.12 2.12",
  ],
  camera: [
    "m16 13 5.223 3.482a.5.5 0 0 0 .777-.416V7.87a.5.5 0 0 0-.752-.432L16 10.5",
    "M4 6h10a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z",
  ],
  cameraOff: [
    "M10.66 6H14a2 2 0 0 1 2 2v2.5l5.248-3.062A.5.5 0 0 1 22 7.87v8.196",
    "M16 16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2", "m2 2 20 20",
  ],
  share: [
    "M13 3H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-3", "M8 21h8", "M12 17v4",
    "m17 8 5-5", "M17 3h5v5",
  ],
  stopShare: [
    "M13 3H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-3", "M8 21h8", "M12 17v4",
    "m22 3-5 5", "m17 3 5 5",
  ],
  leave: [
    "M10.1 13.9a14 14 0 0 0 3.732 2.668 1 1 0 0 0 1.213-.303l.355-.465A2 2 0 0 1 17 15h3a2 2 0 0 1 2 2v3a2 2 0 0 1-2 2 18 18 0 0 1-12.728-5.272",
    "M22 2 2 22",
    "M4.76 13.582A18 18 0 0 1 2 4a2 2 0 0 1 2-2h3a2 2 0 0 1 2 2v3a2 2 0 0 1-.8 1.6l-.468.351a1 1 0 0 0-.292 1.233 14 14 0 0 0 .244.473",
  ],
  sound: [
    "M11 4.702a.705.705 0 0 0-1.203-.498L6.413 7.587A1.4 1.4 0 0 1 5.416 8H3a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h2.416a1.4 1.4 0 0 1 .997.413l3.383 3.384A.705.705 0 0 0 11 19.298z",
    "M16 9a5 5 0 0 1 0 6", "M19.364 18.364a9 9 0 0 0 0-12.728",
  ],
};

function Icon({ paths }) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2"
      strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {paths.map((d) => <path key={d} d={d} />)}
    </svg>
  );
}

/**
 * A call button; its name is `label`, shown beside the icon where there is room (or always,
 * when `wide`).
 */
function Control({ icon, label, onClick, off = false, leave = false, disabled = false, wide = false }) {
  return (
    <button type="button" className="cvi-vc-button" title={label} data-off={off || undefined}
      data-leave={leave || undefined} data-wide={wide || undefined}
      aria-disabled={disabled || undefined}
      onClick={() => disabled || onClick()}>
      <Icon paths={icon} />
      <span className="cvi-vc-label">{label}</span>
    </button>
  );
}

/**
 * The visitor's microphone and camera: on or off as Daily reports once joined, as the visitor
 * chose while connecting (applied when the call is joined).
 */
function useLocalMedia(joined) {
  const daily = useDaily();
  const localId = useLocalSessionId();
  const audio = useAudioTrack(localId);
  const video = useVideoTrack(localId);
  const [want, setWant] = useState({ audio: true, video: true });
  const wanted = useRef(want);
  wanted.current = want;
  const live = Boolean(joined && localId);

  useEffect(() => {
    if (!joined || !daily) return;
    if (!wanted.current.audio) daily.setLocalAudio(false);
    if (!wanted.current.video) daily.setLocalVideo(false);
  }, [joined, daily]);

  const turn = (kind, on) => {
    setWant((now) => ({ ...now, [kind]: on }));
    if (!live || !daily) return;
    if (kind === "audio") daily.setLocalAudio(on);
    else daily.setLocalVideo(on);
  };
  return {
    localId,
    micOn: live ? !audio.isOff : want.audio,
    camOn: live ? !video.isOff : want.video,
    showCamera: live && !video.isOff,
    setMic: (on) => turn("audio", on),
    setCam: (on) => turn("video", on),
  };
}

function ReplicaView({ replicaId, replica, captions, accent, transparent }) {
  const activeId = useActiveSpeakerId();
  const video = useVideoTrack(replicaId);
  // The replica's own events say best when it speaks; before the first, Daily's active speaker.
  const speaking = Boolean(replicaId) && (replica.speaking ?? activeId === replicaId);
  return (
    <section role="region" aria-label="Replica" className="cvi-vc-replica"
      data-speaking={speaking ? "true" : "false"} data-transparent={transparent || undefined}
      style={{ outlineColor: speaking ? accent : "transparent" }}>
      {replicaId && !video.isOff ? (
        transparent ? (
          <ChromaKeyVideo track={video.persistentTrack} className="cvi-vc-video"
            label="The agent" />
        ) : (
          <DailyVideo sessionId={replicaId} type="video" fit="cover" className="cvi-vc-video" />
        )
      ) : (
        <p className="cvi-vc-placeholder">
          {replicaId ? "The agent's camera is off." : "The agent will appear here."}
        </p>
      )}
      {replicaId ? <span className="cvi-vc-badge">{speaking ? "Speaking" : "Listening"}</span> : null}
      {captions ? (
        // A log: a live region that may carry a name (a plain <p> may not).
        <p role="log" aria-label="Captions" aria-live="polite" className="cvi-vc-captions">
          {replica.caption ? <span>{replica.caption}</span> : null}
        </p>
      ) : null}
    </section>
  );
}

function SelfView({ media }) {
  return (
    <section role="region" aria-label="You" className="cvi-vc-self">
      {media.showCamera ? (
        <DailyVideo sessionId={media.localId} type="video" mirror fit="cover" muted
          className="cvi-vc-video" />
      ) : (
        <p className="cvi-vc-placeholder">{media.camOn ? "You" : "Camera off"}</p>
      )}
    </section>
  );
}

function Controls({ phase, media, leave, soundBlocked, playSound }) {
  const joined = phase === "joined";
  const inCall = joined || phase === "connecting";
  const { isSharingScreen, startScreenShare, stopScreenShare } = useScreenShare();
  const canShare = typeof navigator.mediaDevices?.getDisplayMedia === "function";
  return (
    <div role="group" aria-label="Call controls" className="cvi-vc-controls">
      {inCall && soundBlocked ? (
        <Control icon={ICONS.sound} label="Turn on sound" onClick={playSound} />
      ) : null}
      {inCall ? (
        <>
          <Control icon={media.micOn ? ICONS.mic : ICONS.micOff} off={!media.micOn}
            label={media.micOn ? "Turn off microphone" : "Turn on microphone"}
            onClick={() => media.setMic(!media.micOn)} />
          <Control icon={media.camOn ? ICONS.camera : ICONS.cameraOff} off={!media.camOn}
            label={media.camOn ? "Turn off camera" : "Turn on camera"}
            onClick={() => media.setCam(!media.camOn)} />
          {canShare ? (
            <Control icon={isSharingScreen ? ICONS.stopShare : ICONS.share}
              label={isSharingScreen ? "Stop sharing" : "Share screen"} disabled={!joined}
              onClick={() => (isSharingScreen ? stopScreenShare() : startScreenShare())} />
          ) : null}
        </>
      ) : null}
      {/* Alone (the call failed), it says what it is in words on a phone too. */}
      <Control icon={ICONS.leave} label="Leave" leave wide={!inCall} onClick={leave} />
    </div>
  );
}

function CallView({ room, captions, accent, transparent, leave, statusRef }) {
  const { phase } = room;
  const joined = phase === "joined";
  const inCall = joined || phase === "connecting";
  const [replicaId = ""] = useParticipantIds({ filter: isReplica });
  const media = useLocalMedia(joined);
  const { camState, micState } = useDevices();
  const audioRef = useRef(null);
  const [soundBlocked, setSoundBlocked] = useState(false);
  const playSound = useCallback(() => {
    const players = audioRef.current?.getAllAudio() ?? [];
    Promise.all(players.map((audio) => audio.play()))
      .then(() => setSoundBlocked(false))
      .catch(() => {});
  }, []);

  const status = joined
    ? room.reconnecting ? SAY.reconnecting : replicaId ? SAY.connected : SAY.waiting
    : SAY[phase];
  const blocked = inCall && (camState === "blocked" || micState === "blocked");
  return (
    <>
      <p role="status" ref={statusRef} tabIndex={-1} className="cvi-vc-status">{status}</p>
      {blocked ? <p className="cvi-vc-note">{BLOCKED_NOTE}</p> : null}
      {inCall ? (
        <div className="cvi-vc-stage">
          <ReplicaView replicaId={replicaId} replica={room.replica} captions={captions}
            accent={accent} transparent={transparent} />
          <SelfView media={media} />
        </div>
      ) : null}
      {phase !== "idle" && phase !== "ended" ? (
        <Controls phase={phase} media={media} leave={leave} soundBlocked={soundBlocked}
          playSound={playSound} />
      ) : null}
      {room.call && inCall ? (
        <DailyAudio ref={audioRef} onPlayFailed={() => setSoundBlocked(true)} />
      ) : null}
    </>
  );
}

// One DailyProvider (and so one participants store) per call object.
const providerKeys = new WeakMap();
let lastProviderKey = 0;
const providerKey = (call) => {
  if (!call) return 0;
  if (!providerKeys.has(call)) providerKeys.set(call, ++lastProviderKey);
  return providerKeys.get(call);
};

export function VisitorCall(props) {
  const { id, url, token, userName, captions = true, accent, transparent, className, style } =
    props;
  const fire = useCallEvents("VisitorCall", props);
  const room = useVisitorCall({ id, url, token, userName }, fire);
  const statusRef = useRef(null);
  const { leave: leaveCall } = room;
  const leave = useCallback(async () => {
    if (!(await leaveCall())) return;
    fire("onLeave");
    statusRef.current?.focus(); // the buttons are gone: keep the keyboard on the call
  }, [leaveCall, fire]);
  return (
    <div id={id} className={className ? `cvi-vc ${className}` : "cvi-vc"} style={style}>
      <style>{CSS}</style>
      <DailyProvider key={providerKey(room.call)} callObject={room.call}>
        <CallView room={room} captions={captions !== false} accent={accent || DEFAULT_ACCENT}
          transparent={transparent === true} leave={leave} statusRef={statusRef} />
      </DailyProvider>
    </div>
  );
}
