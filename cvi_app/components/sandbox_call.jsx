// SandboxCall: the browser side of a sandbox room (CVI Studio's local stand-in for a Daily room).
// The room connection is useSandboxRoom (sandbox_room.js); this file is what a person sees: the
// replica's tile with its speaking state and live captions, a status line, and a "Say something"
// box whose words are sent as sandbox.user_speech app-messages.
//
// Colours, spacing and radii are the Radix theme's tokens, so the view follows the app's theme
// in light and dark. What sits on the replica's picture (badge, captions) uses the black and
// white overlays, which stay the same in both: the picture does not change with the theme.
import React, { useState } from "react";
import { useCallEvents } from "./call_shared.js";
import { MAX_SAY_CHARS, captionTail, useSandboxRoom } from "./sandbox_room.js";

const DEFAULT_REPLICA_IMAGE = "/sandbox_replica.svg";

const onPicture = {
  color: "var(--white-a12)",
  background: "var(--black-a9)",
};

const styles = {
  // Only what the layout needs: size and placement come from the page (className / style).
  root: { display: "grid", gap: "var(--space-3)" },
  tile: (speaking, transparent) => ({
    position: "relative",
    aspectRatio: "16 / 9",
    borderRadius: "var(--radius-5)",
    overflow: "hidden",
    background: transparent ? "transparent" : "var(--gray-a3)",
    outline: `4px solid ${speaking ? "var(--accent-9)" : "transparent"}`,
    // Its own compositing layer: a caption or speaking change repaints the tile, not the page.
    willChange: "transform",
  }),
  image: { width: "100%", height: "100%", objectFit: "cover", display: "block" },
  badge: (speaking) => ({
    position: "absolute",
    left: "var(--space-3)",
    top: "var(--space-3)",
    padding: "var(--space-1) var(--space-2)",
    // As Radix's own badges: rounded as the theme's radius, a pill when it is "full".
    borderRadius: "max(var(--radius-2), var(--radius-full))",
    fontSize: "var(--font-size-2)",
    lineHeight: "var(--line-height-2)",
    ...(speaking ? { color: "var(--accent-contrast)", background: "var(--accent-9)" } : onPicture),
  }),
  captions: {
    position: "absolute",
    left: "var(--space-4)",
    right: "var(--space-4)",
    bottom: "var(--space-3)",
    margin: 0,
    textAlign: "center",
    fontSize: "var(--font-size-4)",
    lineHeight: "var(--line-height-4)",
    minHeight: "var(--line-height-4)",
    willChange: "transform", // captions change per word: repaint them, not the picture
  },
  // Subtitles: a dark band behind each line, readable on any part of the picture.
  captionText: {
    ...onPicture,
    padding: "0 var(--space-2)",
    borderRadius: "var(--radius-2)",
    boxDecorationBreak: "clone",
    WebkitBoxDecorationBreak: "clone",
  },
  status: { margin: 0, fontSize: "var(--font-size-2)", color: "var(--gray-11)" },
  form: { display: "flex", gap: "var(--space-2)" },
  input: {
    flex: 1,
    minWidth: 0,
    padding: "var(--space-2) var(--space-3)",
    fontSize: "var(--font-size-3)",
    border: "1px solid var(--gray-a7)",
    borderRadius: "var(--radius-2)",
    background: "var(--color-surface)",
    color: "var(--gray-12)",
  },
  button: (enabled) => ({
    padding: "var(--space-2) var(--space-4)",
    fontSize: "var(--font-size-3)",
    fontWeight: "var(--font-weight-medium)",
    border: 0,
    borderRadius: "var(--radius-2)",
    ...(enabled
      ? { color: "var(--accent-contrast)", background: "var(--accent-9)", cursor: "pointer" }
      : { color: "var(--gray-a8)", background: "var(--gray-a3)", cursor: "not-allowed" }),
  }),
};

/**
 * The replica's tile: its picture, "Speaking" or "Listening", and the latest captions. With
 * `transparent`, the tile has no fill: the picture lies on the page's own background.
 */
export function ReplicaTile({ image, speaking, caption, announce = true, transparent = false }) {
  return (
    <section
      role="region"
      aria-label="Replica"
      data-speaking={speaking ? "true" : "false"}
      style={styles.tile(speaking, transparent)}
    >
      <img src={image} alt="" style={styles.image} />
      <span style={styles.badge(speaking)}>{speaking ? "Speaking" : "Listening"}</span>
      {/* A log: a live region that may carry a name (a plain <p> may not). */}
      <p
        role="log"
        aria-label="Captions"
        aria-live={announce ? "polite" : "off"}
        style={styles.captions}
      >
        {caption ? <span style={styles.captionText}>{caption}</span> : null}
      </p>
    </section>
  );
}

/**
 * The status line and the "Say something" box. `say(words)` returns whether the words went
 * out: only then is the box cleared and the words shown as said.
 */
export function SayBox({ status, canSay, say, showBox }) {
  const [text, setText] = useState("");
  const [youSaid, setYouSaid] = useState("");
  const submit = (event) => {
    event.preventDefault();
    const words = text.trim();
    if (!words || !say(words)) return;
    setYouSaid(words);
    setText("");
  };
  return (
    <>
      <p role="status" style={styles.status}>
        {status}
        {youSaid ? ` · You said: ${captionTail(youSaid)}` : ""}
      </p>
      {showBox ? (
        <form onSubmit={submit} style={styles.form}>
          <input
            type="text"
            aria-label="Say something"
            placeholder="Type what you say…"
            autoComplete="off"
            value={text}
            maxLength={MAX_SAY_CHARS}
            onChange={(event) => setText(event.target.value)}
            style={styles.input}
          />
          <button type="submit" disabled={!canSay} style={styles.button(canSay)}>
            Say
          </button>
        </form>
      ) : null}
    </>
  );
}

export function SandboxCall(props) {
  const { id, url, token, userName, replicaImage, className, style } = props;
  // A page that knows better (the room: the server's view of the call) passes these in.
  const { speaking, caption, showSayBox = true, transparent = false } = props;
  const fire = useCallEvents("SandboxCall", props);
  const room = useSandboxRoom({ id, url, token, userName }, fire);
  return (
    <div id={id} className={className} style={{ ...styles.root, ...style }}>
      <ReplicaTile
        image={replicaImage || DEFAULT_REPLICA_IMAGE}
        speaking={speaking ?? room.speaking}
        caption={caption ?? room.caption}
        announce={caption == null /* a page that passes captions announces its own transcript */}
        transparent={transparent === true}
      />
      <SayBox status={room.status} canSay={room.joined} say={room.say} showBox={showSayBox} />
    </div>
  );
}
