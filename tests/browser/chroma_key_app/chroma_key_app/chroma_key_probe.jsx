// ChromaKeyProbe: ChromaKeyVideo (cvi_app/components/chroma_key.js, from where VisitorCall links
// it) over a synthetic track made here: a canvas painted half key green, half red, repainted so
// that frames keep coming as a call's would, captured with captureStream(). It lies on a blue
// "page" so the keyed half shows blue. Buttons hide and show the video and swap in a new track.
// The probe owns its tracks: it stops each one it replaces, and the last on unmount.
import React, { useEffect, useState } from "react";
import { ChromaKeyVideo } from "$/public/external/cvi_app/components/visitor_call/chroma_key.js";

const WIDTH = 320;
const HEIGHT = 180;
const CSS = `
.probe-page { display: inline-block; padding: 16px; background: rgb(0, 0, 255); }
.probe-video { display: block; width: ${WIDTH}px; height: ${HEIGHT}px; }
`;

function syntheticTrack() {
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const context = canvas.getContext("2d");
  const paint = () => {
    context.fillStyle = "rgb(0, 255, 155)"; // Tavus's greenscreen
    context.fillRect(0, 0, WIDTH / 2, HEIGHT);
    context.fillStyle = "rgb(255, 0, 0)";
    context.fillRect(WIDTH / 2, 0, WIDTH / 2, HEIGHT);
  };
  paint();
  const [track] = canvas.captureStream(30).getVideoTracks();
  const timer = window.setInterval(paint, 50);
  return { track, stop: () => (window.clearInterval(timer), track.stop()) };
}

export function ChromaKeyProbe({ keyColor, similarity, smoothness }) {
  const [track, setTrack] = useState(null);
  const [shown, setShown] = useState(true);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const made = syntheticTrack();
    window.__probeTracks = [...(window.__probeTracks || []), made.track];
    setTrack(made.track);
    return made.stop;
  }, [generation]);

  return (
    <div>
      <style>{CSS}</style>
      <div className="probe-page" id="probe-page">
        {shown && track ? (
          <ChromaKeyVideo track={track} keyColor={keyColor} similarity={similarity}
            smoothness={smoothness} className="probe-video" label="Keyed video" />
        ) : null}
      </div>
      <p>
        <button type="button" onClick={() => setShown(!shown)}>
          {shown ? "Hide video" : "Show video"}
        </button>
        <button type="button" onClick={() => setGeneration(generation + 1)}>New track</button>
      </p>
    </div>
  );
}
