// ChromaKeyVideo: a MediaStreamTrack drawn with its key colour keyed out, so that the page shows
// through where the video is that colour (a Tavus replica with apply_greenscreen, on its flat
// green). The track plays in a hidden <video>; each frame goes through a WebGL fragment shader
// that sets alpha from the pixel's CbCr distance to the key colour (smoothstep from `similarity`
// over `smoothness`, both in CbCr units where 0.5 is half the chroma plane) and desaturates what
// lies just past it (spill). Without WebGL (or when the context is lost) the plain <video> is
// shown, unkeyed. The track is not ours: it is never stopped here. Dependency-free besides React.
import React, { useEffect, useRef, useState } from "react";

const VERTEX = `attribute vec2 p; varying vec2 uv;
void main() { uv = vec2(0.5 + 0.5 * p.x, 0.5 - 0.5 * p.y); gl_Position = vec4(p, 0.0, 1.0); }`;

const FRAGMENT = `precision mediump float;
varying vec2 uv;
uniform sampler2D frame;
uniform vec2 keyCbCr;
uniform float similarity;
uniform float smoothness;
vec2 cbcr(vec3 c) {
  return vec2(dot(c, vec3(-0.1146, -0.3854, 0.5)), dot(c, vec3(0.5, -0.4542, -0.0458)));
}
void main() {
  vec4 c = texture2D(frame, uv);
  float d = distance(cbcr(c.rgb), keyCbCr);
  float alpha = smoothstep(similarity, similarity + smoothness, d);
  float keep = smoothstep(similarity, similarity + smoothness + 0.1, d);
  vec3 rgb = mix(vec3(dot(c.rgb, vec3(0.2126, 0.7152, 0.0722))), c.rgb, keep);
  gl_FragColor = vec4(rgb * alpha, alpha); // the canvas is premultiplied
}`;

// The key colour's (Cb, Cr) without the 0.5 offset, as the shader's cbcr() computes it.
const keyChroma = ([r, g, b]) => {
  const [x, y, z] = [r / 255, g / 255, b / 255];
  return [-0.1146 * x - 0.3854 * y + 0.5 * z, 0.5 * x - 0.4542 * y - 0.0458 * z];
};

const h = React.createElement;
const HIDDEN = { position: "absolute", width: 1, height: 1, opacity: 0, pointerEvents: "none" };

// A program that draws one textured quad over the whole canvas: null without WebGL, "lost"
// when this canvas's context was lost.
function keyer(canvas) {
  const gl = canvas.getContext("webgl", { premultipliedAlpha: true, antialias: false });
  if (!gl) return null;
  if (gl.isContextLost()) return "lost";
  const program = gl.createProgram();
  for (const [type, source] of [[gl.VERTEX_SHADER, VERTEX], [gl.FRAGMENT_SHADER, FRAGMENT]]) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    gl.attachShader(program, shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return null;
  }
  gl.useProgram(program);
  gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const at = gl.getAttribLocation(program, "p");
  gl.enableVertexAttribArray(at);
  gl.vertexAttribPointer(at, 2, gl.FLOAT, false, 0, 0);
  gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
  const uniform = (name) => gl.getUniformLocation(program, name);
  const [key, similarity, smoothness] = ["keyCbCr", "similarity", "smoothness"].map(uniform);
  return {
    draw(video, settings) {
      const { videoWidth: w, videoHeight: h } = video;
      if (!w || !h) return;
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
        gl.viewport(0, 0, w, h);
      }
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, video);
      gl.uniform2fv(key, settings.key);
      gl.uniform1f(similarity, settings.similarity);
      gl.uniform1f(smoothness, settings.smoothness);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    },
    lose: () => gl.getExtension("WEBGL_lose_context")?.loseContext(),
  };
}

// Calls `draw` once per new video frame (or display frame); returns what stops it.
function everyFrame(video, draw) {
  const byFrame = typeof video.requestVideoFrameCallback === "function";
  let id = 0;
  let stopped = false;
  const next = () => {
    if (stopped) return;
    draw();
    id = byFrame ? video.requestVideoFrameCallback(next) : window.requestAnimationFrame(next);
  };
  id = byFrame ? video.requestVideoFrameCallback(next) : window.requestAnimationFrame(next);
  return () => {
    stopped = true;
    if (byFrame) video.cancelVideoFrameCallback(id);
    else window.cancelAnimationFrame(id);
  };
}

/**
 * `track` (a video MediaStreamTrack) with `keyColor` ([r, g, b], 0-255) keyed out. `className`
 * styles what is shown (the canvas, or the video without WebGL); `label` names it.
 */
export function ChromaKeyVideo({
  track, keyColor = [0, 255, 155], similarity = 0.4, smoothness = 0.08, className, label,
}) {
  const videoRef = useRef(null);
  const canvasRef = useRef(null);
  const [keyed, setKeyed] = useState(true);
  // A lost context never comes back on its canvas: `canvasKey` asks React for a new one.
  const [canvasKey, setCanvasKey] = useState(0);
  // Read on every frame, so new props apply without restarting anything.
  const settings = useRef(null);
  settings.current = { key: keyChroma(keyColor), similarity, smoothness };

  useEffect(() => {
    const video = videoRef.current;
    if (!video || !track) return undefined;
    video.srcObject = new MediaStream([track]);
    video.play().catch(() => {}); // muted, so allowed; else `autoPlay` starts it
    return () => {
      video.srcObject = null;
    };
  }, [track]);

  useEffect(() => {
    const video = videoRef.current;
    const canvas = canvasRef.current;
    if (!keyed || !video || !canvas || !track) return undefined;
    const gl = keyer(canvas);
    if (gl === "lost") {
      setCanvasKey((n) => n + 1); // this canvas's context was lost (by us, or by the browser)
      return undefined;
    }
    if (!gl) {
      setKeyed(false);
      return undefined;
    }
    const lost = (event) => {
      event.preventDefault();
      setKeyed(false);
    };
    canvas.addEventListener("webglcontextlost", lost);
    const stop = everyFrame(video, () => gl.draw(video, settings.current));
    return () => {
      stop();
      canvas.removeEventListener("webglcontextlost", lost);
      gl.lose();
    };
  }, [keyed, track, canvasKey]);

  // Plain JS (no JSX), so the file is importable as it is.
  const video = h("video", {
    ref: videoRef, muted: true, playsInline: true, autoPlay: true,
    "aria-hidden": keyed || undefined, "aria-label": keyed ? undefined : label,
    className: keyed ? undefined : className, style: keyed ? HIDDEN : undefined,
  });
  const canvas = keyed ? h("canvas", {
    key: `${track?.id || ""}:${canvasKey}`, ref: canvasRef, role: "img", "aria-label": label,
    className,
  }) : null;
  return h(React.Fragment, null, video, canvas); // one shape: the <video> is never remade
}
