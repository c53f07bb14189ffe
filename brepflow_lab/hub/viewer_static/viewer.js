// BrepFlow team viewer: draws the GLB parts of a graph with plain WebGL (read-only).
// GLB → meshes (POSITION, NORMAL, indices, node transforms, base colour); drag to orbit,
// wheel to zoom, double-click to fit. Sets window.brepflowViewer = {triangles, parts, ready}.
(function () {
  "use strict";
  const canvas = document.getElementById("view");
  const status = document.getElementById("status");
  const state = { triangles: 0, parts: 0, ready: false, error: null };
  window.brepflowViewer = state;
  if (!canvas) return;
  const gl = canvas.getContext("webgl", { antialias: true, preserveDrawingBuffer: true });
  function fail(msg) {
    state.error = msg;
    if (status) { status.textContent = msg; status.className = "err"; }
  }
  if (!gl) { fail("WebGL is not available in this browser"); return; }
  const uint32 = gl.getExtension("OES_element_index_uint");

  // ---- math (column-major 4x4) ----
  const I = () => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  function mul(a, b) {
    const o = new Array(16).fill(0);
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
      o[c * 4 + r] = s;
    }
    return o;
  }
  function trs(n) {
    if (n.matrix) return n.matrix.slice();
    const t = n.translation || [0, 0, 0], q = n.rotation || [0, 0, 0, 1], s = n.scale || [1, 1, 1];
    const [x, y, z, w] = q;
    return [
      (1 - 2 * (y * y + z * z)) * s[0], 2 * (x * y + z * w) * s[0], 2 * (x * z - y * w) * s[0], 0,
      2 * (x * y - z * w) * s[1], (1 - 2 * (x * x + z * z)) * s[1], 2 * (y * z + x * w) * s[1], 0,
      2 * (x * z + y * w) * s[2], 2 * (y * z - x * w) * s[2], (1 - 2 * (x * x + y * y)) * s[2], 0,
      t[0], t[1], t[2], 1,
    ];
  }
  function perspective(fovy, aspect, near, far) {
    const f = 1 / Math.tan(fovy / 2), nf = 1 / (near - far);
    return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0];
  }
  function lookAt(eye, c, up) {
    let z = [eye[0] - c[0], eye[1] - c[1], eye[2] - c[2]];
    let l = Math.hypot(...z); z = z.map((v) => v / l);
    let x = [up[1] * z[2] - up[2] * z[1], up[2] * z[0] - up[0] * z[2], up[0] * z[1] - up[1] * z[0]];
    l = Math.hypot(...x) || 1; x = x.map((v) => v / l);
    const y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
    const d = (a) => -(a[0] * eye[0] + a[1] * eye[1] + a[2] * eye[2]);
    return [x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, d(x), d(y), d(z), 1];
  }

  // ---- GLB ----
  const COMPONENTS = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT4: 16 };
  const ARRAYS = { 5120: Int8Array, 5121: Uint8Array, 5122: Int16Array, 5123: Uint16Array, 5125: Uint32Array, 5126: Float32Array };
  function parseGlb(buf) {
    const dv = new DataView(buf);
    if (dv.getUint32(0, true) !== 0x46546c67) throw new Error("not a GLB file");
    let off = 12, json = null, bin = null;
    while (off < buf.byteLength) {
      const len = dv.getUint32(off, true), type = dv.getUint32(off + 4, true);
      if (type === 0x4e4f534a) json = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, off + 8, len)));
      else if (type === 0x004e4942) bin = buf.slice(off + 8, off + 8 + len);
      off += 8 + len;
    }
    function accessor(i) {
      const a = json.accessors[i], bv = json.bufferViews[a.bufferView];
      const T = ARRAYS[a.componentType], n = COMPONENTS[a.type];
      const stride = bv.byteStride || T.BYTES_PER_ELEMENT * n;
      const start = (bv.byteOffset || 0) + (a.byteOffset || 0);
      if (stride === T.BYTES_PER_ELEMENT * n) return new T(bin, start, a.count * n);
      const out = new T(a.count * n), src = new DataView(bin);
      for (let k = 0; k < a.count; k++) for (let c = 0; c < n; c++) {
        const p = start + k * stride + c * T.BYTES_PER_ELEMENT;
        out[k * n + c] = T === Float32Array ? src.getFloat32(p, true) : src.getUint32(p, true);
      }
      return out;
    }
    const meshes = [];
    function visit(ni, parent) {
      const node = json.nodes[ni], m = mul(parent, trs(node));
      if (node.mesh !== undefined) {
        for (const prim of json.meshes[node.mesh].primitives) {
          if (prim.mode !== undefined && prim.mode !== 4) continue;
          const mat = prim.material !== undefined ? json.materials[prim.material] : null;
          const color = (mat && mat.pbrMetallicRoughness && mat.pbrMetallicRoughness.baseColorFactor) || [0.62, 0.68, 0.76, 1];
          meshes.push({
            position: accessor(prim.attributes.POSITION),
            normal: prim.attributes.NORMAL !== undefined ? accessor(prim.attributes.NORMAL) : null,
            index: prim.indices !== undefined ? accessor(prim.indices) : null,
            matrix: m, color,
          });
        }
      }
      for (const c of node.children || []) visit(c, m);
    }
    const scene = json.scenes[json.scene || 0];
    for (const n of scene.nodes) visit(n, I());
    return meshes;
  }

  // ---- GL ----
  const VS = `attribute vec3 p; attribute vec3 n; uniform mat4 mvp, model; varying vec3 vn;
    void main(){ vn = mat3(model) * n; gl_Position = mvp * vec4(p, 1.0); }`;
  const FS = `precision mediump float; varying vec3 vn; uniform vec4 color;
    void main(){ vec3 N = normalize(vn); float d = abs(dot(N, normalize(vec3(0.4, 0.8, 0.6))));
      gl_FragColor = vec4(color.rgb * (0.35 + 0.65 * d), color.a); }`;
  function shader(type, src) {
    const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  }
  const prog = gl.createProgram();
  gl.attachShader(prog, shader(gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  const loc = { p: gl.getAttribLocation(prog, "p"), n: gl.getAttribLocation(prog, "n"),
    mvp: gl.getUniformLocation(prog, "mvp"), model: gl.getUniformLocation(prog, "model"),
    color: gl.getUniformLocation(prog, "color") };
  const drawables = [];
  const box = { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };

  function flatNormals(pos, idx) {
    const n = new Float32Array(pos.length);
    const count = idx ? idx.length : pos.length / 3;
    for (let t = 0; t < count; t += 3) {
      const i = [0, 1, 2].map((k) => (idx ? idx[t + k] : t + k) * 3);
      const a = [0, 1, 2].map((c) => pos[i[1] + c] - pos[i[0] + c]);
      const b = [0, 1, 2].map((c) => pos[i[2] + c] - pos[i[0] + c]);
      const x = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
      for (const v of i) for (let c = 0; c < 3; c++) n[v + c] += x[c];
    }
    return n;
  }
  function add(mesh) {
    const m = mesh.matrix;
    for (let k = 0; k < mesh.position.length; k += 3) {
      const x = mesh.position[k], y = mesh.position[k + 1], z = mesh.position[k + 2];
      const w = [m[0] * x + m[4] * y + m[8] * z + m[12], m[1] * x + m[5] * y + m[9] * z + m[13], m[2] * x + m[6] * y + m[10] * z + m[14]];
      for (let c = 0; c < 3; c++) { box.min[c] = Math.min(box.min[c], w[c]); box.max[c] = Math.max(box.max[c], w[c]); }
    }
    const buf = (data, target) => { const b = gl.createBuffer(); gl.bindBuffer(target, b); gl.bufferData(target, data, gl.STATIC_DRAW); return b; };
    const d = { matrix: m, color: mesh.color,
      p: buf(mesh.position, gl.ARRAY_BUFFER),
      n: buf(mesh.normal || flatNormals(mesh.position, mesh.index), gl.ARRAY_BUFFER), count: 0, type: 0, i: null };
    if (mesh.index) {
      let idx = mesh.index;
      if (idx instanceof Uint32Array && !uint32) idx = new Uint16Array(idx);
      d.i = buf(idx, gl.ELEMENT_ARRAY_BUFFER);
      d.count = idx.length;
      d.type = idx instanceof Uint32Array ? gl.UNSIGNED_INT : idx instanceof Uint8Array ? gl.UNSIGNED_BYTE : gl.UNSIGNED_SHORT;
    } else d.count = mesh.position.length / 3;
    state.triangles += d.count / 3;
    drawables.push(d);
  }

  const view = { yaw: 0.7, pitch: 0.5, dist: 1, center: [0, 0, 0] };
  function fit() {
    view.center = [0, 1, 2].map((c) => (box.min[c] + box.max[c]) / 2);
    view.dist = 1.8 * Math.max(1e-6, Math.hypot(...[0, 1, 2].map((c) => box.max[c] - box.min[c])));
  }
  function draw() {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    gl.viewport(0, 0, w, h);
    gl.clearColor(0.957, 0.965, 0.973, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.enable(gl.DEPTH_TEST);
    gl.useProgram(prog);
    const eye = [view.center[0] + view.dist * Math.cos(view.pitch) * Math.sin(view.yaw),
      view.center[1] + view.dist * Math.sin(view.pitch),
      view.center[2] + view.dist * Math.cos(view.pitch) * Math.cos(view.yaw)];
    const vp = mul(perspective(0.7, w / Math.max(1, h), view.dist / 100, view.dist * 10), lookAt(eye, view.center, [0, 1, 0]));
    for (const d of drawables) {
      gl.uniformMatrix4fv(loc.mvp, false, new Float32Array(mul(vp, d.matrix)));
      gl.uniformMatrix4fv(loc.model, false, new Float32Array(d.matrix));
      gl.uniform4fv(loc.color, d.color);
      gl.bindBuffer(gl.ARRAY_BUFFER, d.p); gl.enableVertexAttribArray(loc.p); gl.vertexAttribPointer(loc.p, 3, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, d.n); gl.enableVertexAttribArray(loc.n); gl.vertexAttribPointer(loc.n, 3, gl.FLOAT, false, 0, 0);
      if (d.i) { gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, d.i); gl.drawElements(gl.TRIANGLES, d.count, d.type, 0); }
      else gl.drawArrays(gl.TRIANGLES, 0, d.count);
    }
  }
  let dragging = null;
  canvas.addEventListener("pointerdown", (e) => { dragging = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointerup", () => { dragging = null; });
  canvas.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    view.yaw -= (e.clientX - dragging[0]) * 0.01;
    view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + (e.clientY - dragging[1]) * 0.01));
    dragging = [e.clientX, e.clientY];
    requestAnimationFrame(draw);
  });
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); view.dist *= Math.exp(e.deltaY * 0.001); requestAnimationFrame(draw); }, { passive: false });
  canvas.addEventListener("dblclick", () => { fit(); requestAnimationFrame(draw); });
  window.addEventListener("resize", () => requestAnimationFrame(draw));

  async function load() {
    const base = canvas.dataset.model;
    const headers = { "X-XSRFToken": canvas.dataset.xsrf || "" };
    const res = await fetch(base, { credentials: "same-origin", headers });
    const report = await res.json();
    if (!res.ok) throw new Error(report.message || res.statusText);
    for (const part of report.parts) {
      const r = await fetch(part.url, { credentials: "same-origin", headers });
      if (!r.ok) throw new Error(`${part.file}: ${r.status}`);
      for (const mesh of parseGlb(await r.arrayBuffer())) add(mesh);
      state.parts += 1;
    }
    fit();
    draw();
    const failed = Object.keys(report.failed || {});
    if (status) {
      status.textContent = `${state.parts} part(s), ${Math.round(state.triangles)} triangles, evaluated in ${report.seconds} s` +
        (failed.length ? ` — failed nodes: ${failed.join(", ")}` : "");
      status.className = failed.length ? "err" : "muted";
    }
    state.ready = true;
  }
  load().catch((e) => fail(`could not show the model: ${e.message}`));
})();
