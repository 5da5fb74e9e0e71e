/* cargotrace offline report: vanilla JS drawing SVG from the embedded JSON.
   Data are inserted only with textContent and setAttribute on whitelisted attribute names. */
(function () {
  'use strict';

  var SVGNS = 'http://www.w3.org/2000/svg';
  var D2R = Math.PI / 180;
  var DAY = 86400000;

  // ------------------------------------------------------------------ safe helpers
  var BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
  var CTRL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
  function clean(v) {
    if (v === null || v === undefined) return '';
    return String(v)
      .replace(BIDI, function (c) {
        return '[U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + ']';
      })
      .replace(CTRL, '\uFFFD');
  }
  function obj(x) { return x && typeof x === 'object' && !Array.isArray(x) ? x : {}; }
  function arr(x) { return Array.isArray(x) ? x : []; }
  function num(x) {
    var n = typeof x === 'number' ? x : (typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN);
    return Number.isFinite(n) ? n : null;
  }
  function trunc(s, n) {
    var chars = Array.from(s);
    return chars.length > n ? chars.slice(0, n - 1).join('') + '\u2026' : s;
  }

  var ATTR_OK = new Set([
    'class', 'id', 'x', 'y', 'x1', 'x2', 'y1', 'y2', 'cx', 'cy', 'r', 'd', 'width', 'height',
    'viewBox', 'fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'fill-opacity',
    'stroke-opacity', 'opacity', 'transform', 'text-anchor', 'dominant-baseline', 'points',
    'role', 'tabindex', 'aria-label', 'aria-hidden', 'aria-expanded', 'aria-sort',
    'aria-controls', 'colspan', 'scope', 'type', 'value', 'patternUnits', 'patternTransform',
    'rx', 'ry', 'data-site', 'data-col', 'title', 'focusable', 'preserveAspectRatio',
    'stroke-linecap', 'lang'
  ]);
  function setAttrs(e, attrs) {
    if (!attrs) return e;
    Object.keys(attrs).forEach(function (k) {
      if (!ATTR_OK.has(k)) throw new Error('attribute not allowed: ' + k);
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      e.setAttribute(k, clean(v));
    });
    return e;
  }
  function el(tag, attrs, text) {
    var e = setAttrs(document.createElement(tag), attrs);
    if (text !== undefined && text !== null) e.textContent = clean(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = setAttrs(document.createElementNS(SVGNS, tag), attrs);
    if (text !== undefined && text !== null) e.textContent = clean(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function tip(node, text) { add(node, sv('title', null, text)); return node; }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function r1(x) { return Math.round(x * 10) / 10; }

  // ------------------------------------------------------------------ formatting
  function fmtInt(x) { var n = num(x); return n === null ? '\u2014' : Math.round(n).toLocaleString('en-US'); }
  function fmtT(x) {
    var n = num(x);
    if (n === null) return '\u2014';
    return Math.abs(n) < 100
      ? n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
      : Math.round(n).toLocaleString('en-US');
  }
  // two significant digits rounded up, never below 1/(permutations + 1) (as html.fmt_p)
  function fmtP(x, perms) {
    var p = num(x), n = num(perms);
    if (p === null) return '\u2014';
    if (n !== null && n > 0) p = Math.max(p, 1 / (n + 1));
    if (p <= 0) return '0';
    var e = Math.floor(Math.log10(p)) - 1, step = Math.pow(10, e);
    var up = Math.min(1, Math.ceil(Math.round(p / step * 1e9) / 1e9) * step);
    return up.toFixed(Math.max(0, -e));
  }
  function parseT(s) {
    if (s === null || s === undefined || s === '') return null;
    var t = String(s);
    if (/^\d{4}-\d{2}-\d{2}$/.test(t)) t += 'T00:00:00Z';
    else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t = t.replace(' ', 'T') + 'Z';
    var ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : null;
  }
  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  function fmtDate(ms) {
    if (ms === null) return '\u2014';
    var d = new Date(ms);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
  }
  function fmtDateTime(ms) {
    if (ms === null) return '\u2014';
    var d = new Date(ms);
    return fmtDate(ms) + ' ' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ' UTC';
  }
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function niceStep(max, n) {
    if (!(max > 0)) return 1;
    var raw = max / n;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  }
  function textW(s, size) { return Array.from(s).length * size * 0.6; }

  // ------------------------------------------------------------------ data
  var DATA = obj(JSON.parse(document.getElementById('report-data').textContent));
  var F = obj(DATA.findings);
  var MAP = obj(DATA.map);
  var TL = obj(DATA.timeline);
  var PARAMS = obj(F.parameters);
  var SITES = arr(F.sites).map(obj);
  var SHIPMENTS = arr(F.linked_shipments).map(obj);
  var ARRIVALS = arr(F.arrivals).map(obj);
  var PORTS = arr(MAP.ports).map(obj);
  var siteIndex = new Map();
  SITES.forEach(function (s, i) { if (!siteIndex.has(String(s.site_id))) siteIndex.set(String(s.site_id), i); });
  var portByCode = new Map();
  PORTS.forEach(function (p) { portByCode.set(String(p.locode), p); });
  var arrivalById = new Map();
  ARRIVALS.forEach(function (a) { arrivalById.set(String(a.arrival_id), a); });
  function siteLabel(i) { return (i + 1) + '. ' + clean(SITES[i].name || SITES[i].site_id); }
  function portName(code) {
    var p = portByCode.get(String(code));
    return p && p.name ? clean(p.name) + ' (' + clean(code) + ')' : clean(code);
  }
  var WIDTHS = new Map(); // container widths read in one pass before drawing (avoids forced layouts)
  function measure() {
    WIDTHS.clear();
    ['map-overview', 'map-sites', 'map-ports', 'timeline', 'lag-chart', 'sankey', 'vessel-map', 'vessel-timeline'].forEach(function (id) {
      var node = document.getElementById(id);
      if (node && node.parentNode) WIDTHS.set(node, node.parentNode.clientWidth);
    });
  }
  function widthOf(node, min) {
    var w = WIDTHS.has(node) ? WIDTHS.get(node) : (node && node.parentNode ? node.parentNode.clientWidth : 0);
    return Math.max(min, Math.floor(w || 800));
  }
  function emptyChart(svg, W, H, msg) {
    setAttrs(svg, { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H });
    add(svg, sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty-chart' }, msg));
  }

  // ------------------------------------------------------------------ map
  function wrap180(d) { return ((d + 180) % 360 + 360) % 360 - 180; }

  // Equidistant conic fitted to the extent (equirectangular when near the equator).
  function conic(points) {
    var ref = points[0][0];
    var lons = points.map(function (p) { return ref + wrap180(p[0] - ref); });
    var lats = points.map(function (p) { return p[1]; });
    var lonMin = Math.min.apply(null, lons), lonMax = Math.max.apply(null, lons);
    var latMin = Math.min.apply(null, lats), latMax = Math.max.apply(null, lats);
    var lon0 = (lonMin + lonMax) / 2;
    var phi0 = ((latMin + latMax) / 2) * D2R;
    var p1 = (latMin + (latMax - latMin) / 6) * D2R;
    var p2 = (latMax - (latMax - latMin) / 6) * D2R;
    var n = Math.abs(p2 - p1) < 1e-6 ? Math.sin(p1) : (Math.cos(p1) - Math.cos(p2)) / (p2 - p1);
    if (Math.abs(n) < 0.05) {
      var c = Math.cos(phi0);
      return { f: function (lon, lat) { return [wrap180(lon - lon0) * D2R * c, lat * D2R]; }, lon0: lon0, extent: [lonMin, lonMax, latMin, latMax] };
    }
    var G = Math.cos(p1) / n + p1;
    var rho0 = G - phi0;
    return {
      f: function (lon, lat) {
        var rho = G - lat * D2R;
        var th = n * wrap180(lon - lon0) * D2R;
        return [rho * Math.sin(th), rho0 - rho * Math.cos(th)];
      },
      lon0: lon0,
      extent: [lonMin, lonMax, latMin, latMax]
    };
  }

  function validLL(lon, lat) {
    return num(lon) !== null && num(lat) !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 360;
  }

  function fitMap(svg, pts, opt) {
    var W = widthOf(svg, 280);
    if (!pts.length) pts = [[0, 0]];
    var pr = conic(pts);
    var xy = pts.map(function (p) { var q = pr.f(p[0], p[1]); return [q[0], -q[1]]; });
    var xs = xy.map(function (p) { return p[0]; }), ys = xy.map(function (p) { return p[1]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var minSpan = (opt.minDeg || 2) * D2R;
    var dx = Math.max(x1 - x0, minSpan), dy = Math.max(y1 - y0, minSpan * 0.6);
    var pad = opt.pad || 36;
    var H = opt.ratio ? Math.round(W * opt.ratio)
      : Math.round(Math.min(Math.max((W - 2 * pad) * dy / dx + 2 * pad, opt.minH || 220), W * (opt.maxRatio || 0.7)));
    var s = Math.min((W - 2 * pad) / dx, (H - 2 * pad) / dy);
    var cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    setAttrs(svg, { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'xMidYMid meet' });
    var e = pr.extent || [-180, 180, -90, 90];
    var lonSpan = e[1] - e[0], latSpan = e[3] - e[2];
    var mLon = Math.max(lonSpan, 2 * latSpan) * 0.6 + 6, mLat = Math.max(latSpan, lonSpan / 2) * 0.6 + 4;
    return {
      W: W, H: H, scale: s, pr: pr,
      // generous lon/lat window around the view, to skip far-away rings before projecting
      near: function (bb) {
        var lo = pr.lon0 + wrap180((bb[0] + bb[1]) / 2 - pr.lon0), half = (bb[1] - bb[0]) / 2;
        return half > 170 || (lo + half >= e[0] - mLon && lo - half <= e[1] + mLon && bb[3] >= e[2] - mLat && bb[2] <= e[3] + mLat);
      },
      p: function (lon, lat) {
        var q = pr.f(lon, lat);
        return [W / 2 + (q[0] - cx) * s, H / 2 + (-q[1] - cy) * s];
      }
    };
  }

  var RING_BBOX = new WeakMap();
  function ringBBox(ring) {
    var bb = RING_BBOX.get(ring);
    if (bb) return bb;
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    ring.forEach(function (pt) {
      if (!Array.isArray(pt) || !validLL(pt[0], pt[1])) return;
      var lon = num(pt[0]), lat = num(pt[1]);
      if (lon < x0) x0 = lon; if (lon > x1) x1 = lon; if (lat < y0) y0 = lat; if (lat > y1) y1 = lat;
    });
    bb = [x0, x1, y0, y1];
    RING_BBOX.set(ring, bb);
    return bb;
  }
  function ringPath(m, ring) {
    if (!Array.isArray(ring) || ring.length < 3) return null;
    var bb = ringBBox(ring);
    if (!(bb[1] >= bb[0]) || !m.near(bb)) return null;
    var parts = [], xy = [];
    var bx0 = Infinity, bx1 = -Infinity, by0 = Infinity, by1 = -Infinity;
    arr(ring).forEach(function (pt) {
      if (!Array.isArray(pt) || !validLL(pt[0], pt[1])) return;
      var q = m.p(num(pt[0]), num(pt[1]));
      bx0 = Math.min(bx0, q[0]); bx1 = Math.max(bx1, q[0]); by0 = Math.min(by0, q[1]); by1 = Math.max(by1, q[1]);
      parts.push(r1(q[0]) + ',' + r1(q[1]));
      xy.push(q);
    });
    if (parts.length < 3) return null;
    if (bx1 < -m.W || bx0 > 2 * m.W || by1 < -m.H || by0 > 2 * m.H) return null;
    var vw = Math.max(0, Math.min(bx1, m.W) - Math.max(bx0, 0)), vh = Math.max(0, Math.min(by1, m.H) - Math.max(by0, 0));
    return { d: 'M' + parts.join('L') + 'Z', bbox: [bx0, by0, bx1, by1], area: vw * vh, xy: xy };
  }

  function Labeler(W, H) {
    var boxes = [];
    function hit(b) {
      if (b[0] < 2 || b[1] < 2 || b[2] > W - 2 || b[3] > H - 2) return true;
      return boxes.some(function (o) { return b[0] < o[2] && b[2] > o[0] && b[1] < o[3] && b[3] > o[1]; });
    }
    return {
      block: function (b) { boxes.push(b); },
      tryBox: function (b) { if (hit(b)) return false; boxes.push(b); return true; },
      // try positions around (x, y) at distance r; returns [x, y, anchor] or null
      place: function (x, y, r, text, size) {
        var w = textW(text, size), h = size + 2;
        var cands = [
          [x + r + 2, y + size * 0.35, 'start', [x + r + 2, y - h / 2, x + r + 2 + w, y + h / 2]],
          [x - r - 2, y + size * 0.35, 'end', [x - r - 2 - w, y - h / 2, x - r - 2, y + h / 2]],
          [x, y - r - 3, 'middle', [x - w / 2, y - r - 3 - h, x + w / 2, y - r - 3]],
          [x, y + r + size + 1, 'middle', [x - w / 2, y + r + 1, x + w / 2, y + r + 1 + h]]
        ];
        for (var i = 0; i < cands.length; i++) {
          if (!hit(cands[i][3])) { boxes.push(cands[i][3]); return cands[i]; }
        }
        return null;
      }
    };
  }

  function inside(xy, x, y) {
    var c = false;
    for (var i = 0, j = xy.length - 1; i < xy.length; j = i++) {
      var a = xy[i], b = xy[j];
      if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) c = !c;
    }
    return c;
  }
  // A point well inside the visible part of a projected ring, for its label (or null).
  function interiorPoint(xy, b, W, H, tw) {
    var x0 = Math.max(b[0], 0) + tw / 2 + 4, x1 = Math.min(b[2], W) - tw / 2 - 4;
    var y0 = Math.max(b[1], 0) + 14, y1 = Math.min(b[3], H) - 8;
    if (x1 <= x0 || y1 <= y0) return null;
    var ok = [];
    for (var i = 0; i <= 8; i++) {
      for (var j = 0; j <= 6; j++) {
        var x = x0 + (x1 - x0) * i / 8, y = y0 + (y1 - y0) * j / 6;
        if (inside(xy, x, y)) ok.push([x, y]);
      }
    }
    if (!ok.length) return null;
    var mx = 0, my = 0;
    ok.forEach(function (p) { mx += p[0]; my += p[1]; });
    mx /= ok.length; my /= ok.length;
    ok.sort(function (p, q) { return Math.hypot(p[0] - mx, p[1] - my) - Math.hypot(q[0] - mx, q[1] - my); });
    for (var k = 0; k < ok.length && k < 8; k++) {
      if (inside(xy, ok[k][0] - tw / 2, ok[k][1]) && inside(xy, ok[k][0] + tw / 2, ok[k][1])) return ok[k];
    }
    return null;
  }

  function drawGraticule(g, m, ext) {
    var span = Math.max(ext[1] - ext[0], ext[3] - ext[2]);
    var step = span > 40 ? 10 : span > 12 ? 5 : span > 4 ? 2 : 1;
    var lonA = Math.floor((ext[0] - 40) / step) * step, lonB = Math.ceil((ext[1] + 40) / step) * step;
    var latA = Math.max(-80, Math.floor((ext[2] - 25) / step) * step), latB = Math.min(85, Math.ceil((ext[3] + 25) / step) * step);
    var d = [];
    var lon, lat, q, seg;
    for (lon = lonA; lon <= lonB; lon += step) {
      seg = [];
      for (lat = latA; lat <= latB; lat += step / 2) { q = m.p(lon, lat); seg.push(r1(q[0]) + ',' + r1(q[1])); }
      d.push('M' + seg.join('L'));
    }
    for (lat = latA; lat <= latB; lat += step) {
      seg = [];
      for (lon = lonA; lon <= lonB; lon += step / 4) { q = m.p(lon, lat); seg.push(r1(q[0]) + ',' + r1(q[1])); }
      d.push('M' + seg.join('L'));
    }
    add(g, sv('path', { class: 'graticule', d: d.join('') }));
  }

  function drawMap(svg, cfg) {
    clear(svg);
    var ports = PORTS.filter(function (p) { return validLL(p.lon, p.lat); });
    var sites = SITES.map(function (s, i) { return { s: s, i: i }; }).filter(function (o) { return validLL(o.s.lon, o.s.lat); });
    var facilities = arr(MAP.facilities).map(obj).filter(function (f) { return validLL(f.lon, f.lat); });
    var flows = arr(MAP.flows).map(obj).filter(function (f) {
      return validLL(f.from_lon, f.from_lat) && validLL(f.to_lon, f.to_lat);
    });
    var legs = arr(MAP.sea_legs).map(obj);

    var pts = cfg.fit(ports, sites, facilities, legs);
    if (!pts.length) pts = ports.map(function (p) { return [num(p.lon), num(p.lat)]; });
    if (!pts.length) pts = sites.map(function (o) { return [num(o.s.lon), num(o.s.lat)]; });
    if (!pts.length) {
      emptyChart(svg, widthOf(svg, 280), 200, 'No located ports or sites');
      return;
    }
    var m = fitMap(svg, pts, cfg);
    var lab = Labeler(m.W, m.H);
    var root = add(svg, sv('g'));
    var gGrat = add(root, sv('g'));
    var gCountries = add(root, sv('g'));
    var gLegs = add(root, sv('g'));
    var gFlows = add(root, sv('g'));
    var gFac = add(root, sv('g'));
    var gPorts = add(root, sv('g'));
    var gSites = add(root, sv('g'));
    var gLabels = add(root, sv('g'));
    var ext = m.pr.extent || [0, 0, 0, 0];
    drawGraticule(gGrat, m, ext);

    var borderCode = clean(MAP.border_country);
    var originCode = clean(PARAMS.origin_country);
    var countryLabels = [];
    arr(MAP.countries).map(obj).forEach(function (c) {
      var code = clean(c.code);
      var cls = 'country' + (code && code === borderCode ? ' border' : code && code === originCode ? ' origin' : '');
      var best = null;
      var ds = [];
      arr(c.rings).forEach(function (ring) {
        var rp = ringPath(m, ring);
        if (!rp) return;
        ds.push(rp.d);
        if (!best || rp.area > best.area) best = rp;
      });
      if (!ds.length) return;
      tip(add(gCountries, sv('path', { class: cls, d: ds.join('') })), clean(c.name) + (code ? ' (' + code + ')' : ''));
      if (best && best.area > 0 && cfg.countryLabels) countryLabels.push({ name: clean(c.name || code), b: best.bbox, area: best.area, xy: best.xy });
    });

    var maxLeg = 1;
    legs.forEach(function (l) { maxLeg = Math.max(maxLeg, num(l.count) || 1); });
    legs.forEach(function (l) {
      var seg = [];
      var coords = arr(l.coords).filter(function (pt) { return Array.isArray(pt) && validLL(pt[0], pt[1]); });
      // a routed leg may start/end on the sea-lane network: join it to the port markers
      var a = portByCode.get(String(l.from_locode)), b = portByCode.get(String(l.to_locode));
      if (a && validLL(a.lon, a.lat)) coords = [[a.lon, a.lat]].concat(coords);
      if (b && validLL(b.lon, b.lat)) coords = coords.concat([[b.lon, b.lat]]);
      coords.forEach(function (pt) {
        var q = m.p(num(pt[0]), num(pt[1]));
        seg.push(r1(q[0]) + ',' + r1(q[1]));
      });
      if (seg.length < 2) return;
      var cnt = num(l.count) || 1;
      tip(add(gLegs, sv('path', { class: 'sea-leg', d: 'M' + seg.join('L'), 'stroke-width': r1(1.2 + 2.4 * cnt / maxLeg) })),
        'Sea leg ' + portName(l.from_locode) + ' \u2192 ' + portName(l.to_locode) + ': ' + fmtInt(cnt) + ' voyage(s)');
    });

    var maxFlow = 0;
    flows.forEach(function (f) { maxFlow = Math.max(maxFlow, num(f.tonnes) || 0); });
    var wMax = Math.max(5, Math.min(14, m.W / 90));
    flows.slice().sort(function (a, b) { return (num(b.tonnes) || 0) - (num(a.tonnes) || 0); }).forEach(function (f) {
      var a = m.p(num(f.from_lon), num(f.from_lat)), b = m.p(num(f.to_lon), num(f.to_lat));
      var dx = b[0] - a[0], dy = b[1] - a[1];
      var len = Math.sqrt(dx * dx + dy * dy) || 1;
      var nx = -dy / len, ny = dx / len;
      if (ny > 0) { nx = -nx; ny = -ny; } // bow towards the top (north)
      var off = Math.min(0.18 * len, 120);
      var c = [(a[0] + b[0]) / 2 + nx * off, (a[1] + b[1]) / 2 + ny * off];
      var t = num(f.tonnes) || 0;
      var w = maxFlow > 0 ? 1 + (wMax - 1) * t / maxFlow : 1.5;
      var si = siteIndex.get(String(f.site_id));
      var dest = si !== undefined ? siteLabel(si) : clean(f.site_id);
      tip(add(gFlows, sv('path', {
        class: 'flow',
        d: 'M' + r1(a[0]) + ',' + r1(a[1]) + 'Q' + r1(c[0]) + ',' + r1(c[1]) + ' ' + r1(b[0]) + ',' + r1(b[1]),
        'stroke-width': r1(w)
      })), 'Rail ' + portName(f.port_locode) + ' \u2192 ' + dest + ': ' + fmtT(t) + ' t');
    });

    facilities.forEach(function (f) {
      var q = m.p(num(f.lon), num(f.lat));
      var k = 5;
      tip(add(gFac, sv('path', {
        class: 'facility',
        d: 'M' + r1(q[0]) + ',' + r1(q[1] - k) + 'L' + r1(q[0] + k) + ',' + r1(q[1]) + 'L' + r1(q[0]) + ',' + r1(q[1] + k) + 'L' + r1(q[0] - k) + ',' + r1(q[1]) + 'Z'
      })), clean(f.name) + (f.category ? ' \u2014 ' + clean(f.category) : ''));
    });

    var maxSiteT = 0;
    sites.forEach(function (o) { maxSiteT = Math.max(maxSiteT, num(o.s.tonnes) || 0); });
    var rMax = cfg.siteRMax || 12;
    var siteGeo = sites.map(function (o) {
      var q = m.p(num(o.s.lon), num(o.s.lat));
      var t = num(o.s.tonnes) || 0;
      var r = 3.5 + (rMax - 3.5) * (maxSiteT > 0 ? Math.sqrt(t / maxSiteT) : 0);
      return { o: o, q: q, r: r };
    });
    // ports and sites block labels first
    ports.forEach(function (p) {
      var q = m.p(num(p.lon), num(p.lat));
      lab.block([q[0] - 5, q[1] - 5, q[0] + 5, q[1] + 5]);
    });
    siteGeo.forEach(function (g) { lab.block([g.q[0] - g.r, g.q[1] - g.r, g.q[0] + g.r, g.q[1] + g.r]); });

    siteGeo.slice().sort(function (a, b) { return b.r - a.r; }).forEach(function (g) {
      var s = g.o.s, i = g.o.i;
      var c = add(gSites, sv('circle', {
        class: 'site' + (s.near_facility ? ' near' : ''), cx: r1(g.q[0]), cy: r1(g.q[1]), r: r1(g.r),
        'data-site': i, tabindex: 0, role: 'button',
        'aria-label': 'Site ' + siteLabel(i) + ', ' + fmtT(s.tonnes) + ' t; show in table'
      }));
      tip(c, siteLabel(i) + (s.esr ? ' (ESR ' + clean(s.esr) + ')' : '') + '\n' + fmtT(s.tonnes) + ' t in ' + fmtInt(s.shipments) +
        ' shipments\nNearest depot: ' + clean(s.nearest_facility || '\u2014') + ' (' + fmtT(s.facility_km) + ' km)');
      c.addEventListener('click', function () { selectSite(i, true); });
      c.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); selectSite(i, true); }
      });
    });

    ports.forEach(function (p) {
      var q = m.p(num(p.lon), num(p.lat));
      var role = p.role === 'origin' || p.role === 'entry' ? p.role : 'other';
      tip(add(gPorts, sv('rect', { class: 'port-' + role, x: r1(q[0] - 5), y: r1(q[1] - 5), width: 10, height: 10 })),
        clean(p.name) + ' (' + clean(p.locode) + ') \u2014 ' + role + ' port');
    });
    // labels: ports first (most important), then sites, then countries
    ports.slice().sort(function (a, b) { return (a.role === 'other') - (b.role === 'other'); }).forEach(function (p) {
      if (cfg.portLabels === 'none' || (cfg.portLabels === 'major' && p.role === 'other')) return;
      var q = m.p(num(p.lon), num(p.lat));
      var text = trunc(clean(p.name || p.locode), 22);
      var pos = lab.place(q[0], q[1], 6, text, 11);
      if (pos) add(gLabels, sv('text', { class: 'map-label port', x: r1(pos[0]), y: r1(pos[1]), 'text-anchor': pos[2] }, text));
    });
    siteGeo.forEach(function (g) {
      var i = g.o.i;
      var full = cfg.siteNames ? String(i + 1) + ' ' + trunc(clean(g.o.s.name || g.o.s.site_id), 18) : null;
      var pos = full ? lab.place(g.q[0], g.q[1], g.r, full, 10) : null;
      var text = full;
      if (!pos) { text = String(i + 1); pos = lab.place(g.q[0], g.q[1], g.r, text, 10); }
      if (pos) add(gLabels, sv('text', { class: 'map-label site-num', x: r1(pos[0]), y: r1(pos[1]), 'text-anchor': pos[2] }, text));
    });
    countryLabels.sort(function (a, b) { return b.area - a.area; }).forEach(function (c) {
      var text = trunc(c.name, 20);
      var tw = textW(text, 11);
      var pos = interiorPoint(c.xy, c.b, m.W, m.H, tw);
      if (pos && lab.tryBox([pos[0] - tw / 2, pos[1] - 9, pos[0] + tw / 2, pos[1] + 3])) {
        add(gLabels, sv('text', { class: 'country-label', x: r1(pos[0]), y: r1(pos[1]), 'text-anchor': 'middle' }, text));
      }
    });
    markSelected();
  }

  function mapPts(ports, sites, facilities, legs, which) {
    var pts = [];
    if (which.ports) ports.forEach(function (p) { pts.push([num(p.lon), num(p.lat)]); });
    if (which.sites) sites.forEach(function (o) { pts.push([num(o.s.lon), num(o.s.lat)]); });
    if (which.facilities) {
      facilities.forEach(function (f) { pts.push([num(f.lon), num(f.lat)]); });
    }
    if (which.legs) legs.forEach(function (l) {
      arr(l.coords).forEach(function (pt) { if (Array.isArray(pt) && validLL(pt[0], pt[1])) pts.push([num(pt[0]), num(pt[1])]); });
    });
    return pts;
  }

  function drawMaps() {
    var overview = document.getElementById('map-overview');
    var detailSites = document.getElementById('map-sites');
    var detailPorts = document.getElementById('map-ports');
    var entryCodes = new Set(arr(MAP.flows).map(function (f) { return String(obj(f).port_locode); }));
    drawMap(overview, {
      fit: function (ports, sites, facilities, legs) {
        return mapPts(ports, sites, facilities, legs, { ports: true, sites: true, facilities: true });
      },
      minH: 240, maxRatio: 0.62, minDeg: 4, pad: 44, portLabels: 'major', countryLabels: true, siteNames: false, siteRMax: 10
    });
    drawMap(detailSites, {
      fit: function (ports, sites, facilities) {
        var pts = mapPts(ports, sites, facilities, [], { sites: true });
        // include the depots close to the sites (not distant ones)
        return pts.concat(mapPts([], [], facilities.filter(function (f) {
          return sites.some(function (o) { return Math.abs(num(o.s.lat) - num(f.lat)) < 3 && Math.abs(num(o.s.lon) - num(f.lon)) < 4; });
        }), [], { facilities: true }));
      },
      ratio: 0.9, minDeg: 2, pad: 30, portLabels: 'none', countryLabels: true, siteNames: true, siteRMax: 13
    });
    drawMap(detailPorts, {
      fit: function (ports, sites, facilities, legs) {
        var keep = ports.filter(function (p) { return p.role === 'origin' || p.role === 'entry' || entryCodes.has(String(p.locode)); });
        return mapPts(keep.length ? keep : ports, [], [], legs, { ports: true, legs: true });
      },
      ratio: 0.9, minDeg: 1.5, pad: 40, portLabels: 'all', countryLabels: true, siteNames: false, siteRMax: 8
    });
  }

  // ------------------------------------------------------------------ site selection
  var selectedSite = null;
  function markSelected() {
    document.querySelectorAll('circle.site').forEach(function (c) {
      c.classList.toggle('selected', selectedSite !== null && c.getAttribute('data-site') === String(selectedSite));
    });
  }
  function selectSite(i, scroll) {
    selectedSite = i;
    document.querySelectorAll('#sites-table tr.highlight').forEach(function (r) { r.classList.remove('highlight'); });
    var row = document.getElementById('site-row-' + i);
    if (row) {
      row.classList.add('highlight');
      if (scroll) {
        var smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
        row.scrollIntoView({ behavior: smooth ? 'smooth' : 'auto', block: 'center' });
        row.focus({ preventScroll: true });
      }
    }
    markSelected();
  }
  document.querySelectorAll('#sites-table tbody tr[id^="site-row-"]').forEach(function (row) {
    var i = Number(row.id.slice('site-row-'.length));
    row.addEventListener('click', function () { selectSite(i, false); });
  });

  // ------------------------------------------------------------------ timeline
  var CLASS_COLOURS = { explosives: '#c0392b', ammunition: '#6c3483' };
  var PALETTE = ['#2e86c1', '#16a085', '#d4ac0d', '#a04000', '#5d6d7e', '#7f8c8d', '#1abc9c', '#884ea0'];
  function classColour(cls, order) {
    if (CLASS_COLOURS[cls]) return CLASS_COLOURS[cls];
    var i = order.indexOf(cls);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
  }

  function drawTimeline() {
    var svg = document.getElementById('timeline');
    clear(svg);
    var vessels = arr(TL.vessels).map(obj);
    var deps = arr(TL.departures_per_day).map(obj);
    var windowDays = num(PARAMS.window_days);
    var times = [];
    vessels.forEach(function (v) {
      arr(v.port_calls).map(obj).forEach(function (c) { times.push(parseT(c.arrived_at), parseT(c.departed_at)); });
      arr(v.gaps).map(obj).forEach(function (g) { times.push(parseT(g.started_at), parseT(g.ended_at)); });
    });
    deps.forEach(function (d) { var t = parseT(d.day); times.push(t, t === null ? null : t + DAY); });
    ARRIVALS.forEach(function (a) { times.push(parseT(a.arrived_at)); });
    times = times.filter(function (t) { return t !== null; });
    var W = widthOf(svg, 640);
    if (!times.length) { emptyChart(svg, W, 120, 'No port calls or departures to show'); return; }
    var t0 = Math.floor(Math.min.apply(null, times) / DAY) * DAY - 2 * DAY;
    var t1 = Math.ceil(Math.max.apply(null, times) / DAY) * DAY + 2 * DAY;
    var ml = W < 700 ? 110 : 150, mr = 14;
    var laneH = 20, laneGap = 6;
    var top = 34;
    var lanesH = Math.max(1, vessels.length) * (laneH + laneGap);
    var depTitle = top + lanesH + 14;
    var depTop = depTitle + 22, depH = 150;
    var H = depTop + depH + 34;
    setAttrs(svg, { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H });
    function x(t) { return ml + (t - t0) / (t1 - t0) * (W - ml - mr); }

    // month grid
    var gGrid = add(svg, sv('g', { class: 'axis' }));
    var d0 = new Date(t0);
    var m = Date.UTC(d0.getUTCFullYear(), d0.getUTCMonth() + 1, 1);
    var monthW = x(t0 + 30 * DAY) - x(t0);
    while (m < t1) {
      var dm = new Date(m);
      var xm = x(m);
      add(gGrid, sv('line', { class: 'grid-line', x1: r1(xm), x2: r1(xm), y1: top - 6, y2: depTop + depH }));
      var lbl = MONTHS[dm.getUTCMonth()] + (dm.getUTCMonth() === 0 || monthW > 70 ? ' ' + dm.getUTCFullYear() : '');
      if ((monthW > 28 || dm.getUTCMonth() % 2 === 0) && xm + textW(lbl, 11) + 4 < W - mr) {
        add(gGrid, sv('text', { class: 'tick-label', x: r1(xm + 3), y: top - 10 }, lbl));
        add(gGrid, sv('text', { class: 'tick-label', x: r1(xm + 3), y: depTop + depH + 16 }, lbl));
      }
      m = Date.UTC(dm.getUTCFullYear(), dm.getUTCMonth() + 1, 1);
    }

    // windows after arrivals of interest (departures panel) and arrival lines
    var gWin = add(svg, sv('g'));
    ARRIVALS.forEach(function (a) {
      var ta = parseT(a.arrived_at);
      if (ta === null) return;
      var day = Math.floor(ta / DAY) * DAY;
      var label = clean(a.vessel_name) + ' at ' + portName(a.port_locode) + ', ' + fmtDateTime(ta);
      if (windowDays !== null) {
        tip(add(gWin, sv('rect', { class: 'window', x: r1(x(day)), y: depTop, width: r1(Math.max(1, x(day + (windowDays + 1) * DAY) - x(day))), height: depH })),
          'Window after arrival: ' + label + ' (+' + windowDays + ' days)');
      }
      tip(add(gWin, sv('line', { class: 'arrival-line', x1: r1(x(ta)), x2: r1(x(ta)), y1: top - 4, y2: depTop + depH })), 'Arrival of interest: ' + label);
    });

    // vessel lanes
    add(svg, sv('text', { class: 'panel-title', x: 4, y: 12 }, 'Vessel port calls'));
    var gL = add(svg, sv('g'));
    vessels.forEach(function (v, k) {
      var y = top + k * (laneH + laneGap);
      add(gL, sv('rect', { class: 'lane-bg', x: ml, y: y, width: W - ml - mr, height: laneH }));
      var name = clean(v.vessel_name || v.mmsi || '?');
      tip(add(gL, sv('text', { class: 'lane-label', x: 4, y: y + laneH / 2 + 4 }, trunc(name, W < 700 ? 14 : 20))),
        name + (v.mmsi ? ' \u2014 MMSI ' + clean(v.mmsi) : ''));
      arr(v.gaps).map(obj).forEach(function (g) {
        var a = parseT(g.started_at), b = parseT(g.ended_at);
        if (a === null || b === null) return;
        tip(add(gL, sv('rect', { class: 'gap', x: r1(x(a)), y: y + 3, width: r1(Math.max(2, x(b) - x(a))), height: laneH - 6 })),
          name + ': AIS gap ' + fmtDateTime(a) + ' \u2192 ' + fmtDateTime(b) + ' (' + fmtInt(g.hours) + ' h)');
      });
      var bars = [];
      arr(v.port_calls).map(obj).forEach(function (c) {
        var a = parseT(c.arrived_at);
        if (a === null) return;
        var b = parseT(c.departed_at);
        var end = b === null || b < a ? a + DAY / 2 : b;
        var src = c.source === 'sighting' || c.source === 'both' ? c.source : 'ais';
        var port = portByCode.get(String(c.port_locode));
        var atOrigin = !!port && port.role === 'origin';
        var x0 = x(a), w = Math.max(4, x(end) - x0);
        bars.push([x0, x0 + w, c]);
        tip(add(gL, sv('rect', {
          class: 'call ' + src + (c.of_interest ? ' interest' : '') + (atOrigin ? ' origin' : ''),
          x: r1(x0), y: y + 2, width: r1(w), height: laneH - 4, rx: 1.5
        })),
          name + ' at ' + portName(c.port_locode) + '\narrived ' + fmtDateTime(a) + (b !== null ? '\ndeparted ' + fmtDateTime(b) : '') +
          '\nsource: ' + src + (num(c.port_gaps) ? '\nAIS silent in port ' + fmtInt(c.port_gaps) + ' time(s) (in-port gaps)' : '') +
          (c.of_interest ? '\narrival of interest' : '') + (atOrigin ? '\nport in the origin country' : ''));
      });
      // port code labels where there is room
      var lastEnd = -Infinity;
      bars.sort(function (p, q) { return p[0] - q[0]; });
      bars.forEach(function (bar, j) {
        var text = trunc(clean(bar[2].port_locode), 7);
        var w = textW(text, 10);
        var lx = bar[1] + 2;
        var next = j + 1 < bars.length ? bars[j + 1][0] : W - mr;
        if (lx > lastEnd && lx + w < next - 2 && lx + w < W - mr) {
          add(gL, sv('text', { class: 'call-label', x: r1(lx), y: y + laneH / 2 + 3.5 }, text));
          lastEnd = lx + w + 2;
        }
      });
    });
    if (!vessels.length) add(gL, sv('text', { class: 'empty-chart', x: ml + 8, y: top + 14 }, 'No vessel tracks in the report data'));

    // departures stacked by cargo class
    add(svg, sv('text', { class: 'panel-title', x: 4, y: depTitle + 4 }, 'Rail departures per day (tonnes), by cargo class'));
    var byDay = new Map();
    var classTotals = new Map();
    deps.forEach(function (d) {
      var t = parseT(d.day), tn = num(d.tonnes);
      if (t === null || tn === null) return;
      var day = Math.floor(t / DAY) * DAY;
      var cls = clean(d.cargo_class || 'other');
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push({ cls: cls, t: tn, n: num(d.shipments) });
      classTotals.set(cls, (classTotals.get(cls) || 0) + tn);
    });
    var order = Array.from(classTotals.keys()).sort(function (a, b) {
      var ra = a === 'explosives' ? 0 : a === 'ammunition' ? 1 : 2, rb = b === 'explosives' ? 0 : b === 'ammunition' ? 1 : 2;
      return ra - rb || classTotals.get(b) - classTotals.get(a);
    });
    var others = order.filter(function (c) { return !CLASS_COLOURS[c]; });
    var ymax = 0;
    byDay.forEach(function (items) { ymax = Math.max(ymax, items.reduce(function (s, it) { return s + it.t; }, 0)); });
    var step = niceStep(ymax, 3);
    var yTop = ymax > 0 ? Math.ceil(ymax / step) * step : 1;
    function y(v) { return depTop + depH - v / yTop * depH; }
    var gAx = add(svg, sv('g', { class: 'axis' }));
    add(gAx, sv('line', { x1: ml, x2: W - mr, y1: depTop + depH, y2: depTop + depH }));
    for (var v = 0; v <= yTop + 1e-9; v += step) {
      add(gAx, sv('line', { class: 'grid-line', x1: ml, x2: W - mr, y1: r1(y(v)), y2: r1(y(v)) }));
      add(gAx, sv('text', { class: 'tick-label', x: ml - 4, y: r1(y(v) + 4), 'text-anchor': 'end' }, fmtInt(v) + ' t'));
    }
    var gD = add(svg, sv('g'));
    var bw = Math.max(1, x(t0 + DAY) - x(t0) - 0.6);
    Array.from(byDay.keys()).sort(function (a, b) { return a - b; }).forEach(function (day) {
      var items = byDay.get(day).slice().sort(function (a, b) { return order.indexOf(a.cls) - order.indexOf(b.cls); });
      var acc = 0;
      items.forEach(function (it) {
        var yb = y(acc), yt = y(acc + it.t);
        acc += it.t;
        tip(add(gD, sv('rect', { x: r1(x(day)), y: r1(yt), width: r1(bw), height: r1(Math.max(0.5, yb - yt)), fill: classColour(it.cls, others) })),
          fmtDate(day) + ' \u2014 ' + it.cls + ': ' + fmtT(it.t) + ' t' + (it.n !== null ? ' (' + fmtInt(it.n) + ' shipments)' : ''));
      });
    });
    if (!byDay.size) add(gD, sv('text', { class: 'empty-chart', x: ml + 8, y: depTop + depH / 2 }, 'No departures in the report data'));

    // cargo class legend (replaces earlier dynamic entries)
    var legend = document.getElementById('timeline-legend');
    legend.querySelectorAll('li.dyn').forEach(function (li) { li.remove(); });
    order.forEach(function (cls) {
      var li = el('li', { class: 'dyn' });
      var s = add(li, sv('svg', { width: 14, height: 14, 'aria-hidden': 'true' }));
      add(s, sv('rect', { x: 1, y: 1, width: 12, height: 12, fill: classColour(cls, others) }));
      li.appendChild(document.createTextNode('departures: ' + cls));
      legend.appendChild(li);
    });
  }

  // ------------------------------------------------------------------ lag histogram
  function drawLag() {
    var svg = document.getElementById('lag-chart');
    clear(svg);
    var rows = arr(F.lag_histogram).map(obj).filter(function (r) { return num(r.lag_days) !== null; })
      .sort(function (a, b) { return num(a.lag_days) - num(b.lag_days); });
    var W = widthOf(svg, 300), H = 250;
    if (!rows.length) { emptyChart(svg, W, 120, 'No lag histogram in the findings'); return; }
    setAttrs(svg, { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H });
    var ml = 46, mr = 10, mt = 22, mb = 40;
    var ymax = 0;
    rows.forEach(function (r) { ymax = Math.max(ymax, num(r.observed) || 0, num(r.expected) || 0); });
    var step = niceStep(ymax, 4);
    var yTop = ymax > 0 ? Math.ceil(ymax / step) * step : 1;
    var band = (W - ml - mr) / rows.length;
    function y(v) { return mt + (H - mt - mb) * (1 - v / yTop); }
    var gA = add(svg, sv('g', { class: 'axis' }));
    for (var v = 0; v <= yTop + 1e-9; v += step) {
      add(gA, sv('line', { class: 'grid-line', x1: ml, x2: W - mr, y1: r1(y(v)), y2: r1(y(v)) }));
      add(gA, sv('text', { class: 'tick-label', x: ml - 5, y: r1(y(v) + 4), 'text-anchor': 'end' }, fmtInt(v)));
    }
    add(gA, sv('line', { x1: ml, x2: W - mr, y1: y(0), y2: y(0) }));
    var every = Math.max(1, Math.ceil(22 / band));
    var pts = [];
    // the window: lags that link a shipment to its arrival
    var win = num(PARAMS.window_days), inWin = rows.filter(function (r) { return win !== null && num(r.lag_days) <= win; }).length;
    if (inWin) tip(add(svg, sv('rect', { class: 'window', x: ml, y: mt, width: r1(band * inWin), height: r1(y(0) - mt) })), 'Window: ' + win + ' days after an arrival (linked)');
    var g = add(svg, sv('g'));
    rows.forEach(function (r, i) {
      var cx = ml + band * (i + 0.5);
      var o = num(r.observed) || 0, e = num(r.expected);
      tip(add(g, sv('rect', { class: 'bar-observed', x: r1(ml + band * i + band * 0.12), y: r1(y(o)), width: r1(band * 0.76), height: r1(Math.max(0, y(0) - y(o))) })),
        'Lag ' + fmtInt(r.lag_days) + ' days: ' + fmtInt(o) + ' observed' + (e !== null ? ', ' + e.toFixed(1) + ' expected' : ''));
      if (e !== null) pts.push([cx, y(e), r, e]);
      if (i % every === 0) add(gA, sv('text', { class: 'tick-label', x: r1(cx), y: H - mb + 14, 'text-anchor': 'middle' }, fmtInt(r.lag_days)));
    });
    if (pts.length) {
      add(g, sv('path', { class: 'expected-line', d: 'M' + pts.map(function (p) { return r1(p[0]) + ',' + r1(p[1]); }).join('L') }));
      pts.forEach(function (p) {
        tip(add(g, sv('circle', { class: 'expected-dot', cx: r1(p[0]), cy: r1(p[1]), r: 3 })), 'Lag ' + fmtInt(p[2].lag_days) + ' days: ' + p[3].toFixed(1) + ' expected');
      });
    }
    add(gA, sv('text', { class: 'tick-label', x: ml + (W - ml - mr) / 2, y: H - 6, 'text-anchor': 'middle' }, 'days from arrival to departure'));
    add(gA, sv('text', { class: 'tick-label', x: 12, y: mt + (H - mt - mb) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (mt + (H - mt - mb) / 2) + ')' }, 'shipments'));
    var lg = add(svg, sv('g', { transform: 'translate(' + (W - mr - 170) + ',4)' }));
    add(lg, sv('rect', { class: 'bar-observed', x: 0, y: 2, width: 12, height: 10 }));
    add(lg, sv('text', { class: 'tick-label', x: 16, y: 11 }, 'observed'));
    add(lg, sv('path', { class: 'expected-line', d: 'M80,7L96,7' }));
    add(lg, sv('circle', { class: 'expected-dot', cx: 88, cy: 7, r: 3 }));
    add(lg, sv('text', { class: 'tick-label', x: 100, y: 11 }, 'expected'));
  }

  // ------------------------------------------------------------------ sensitivity grid
  function drawSensitivity() {
    var box = document.getElementById('sensitivity');
    clear(box);
    var rows = arr(F.sensitivity).map(obj).filter(function (r) { return num(r.window_days) !== null && num(r.near_km) !== null; });
    if (!rows.length) {
      add(box, el('p', { class: 'hint' }, 'No sensitivity runs in the findings.'));
      var cap = box.parentNode.querySelector('figcaption');
      if (cap) cap.hidden = true;
      return;
    }
    var lookbacks = Array.from(new Set(rows.map(function (r) { return num(r.lookback_days); })));
    var lb = lookbacks.indexOf(30) >= 0 ? 30 : lookbacks.indexOf(num(PARAMS.lookback_days)) >= 0 ? num(PARAMS.lookback_days) : lookbacks[0];
    rows = rows.filter(function (r) { return num(r.lookback_days) === lb; });
    var wins = Array.from(new Set(rows.map(function (r) { return num(r.window_days); }))).sort(function (a, b) { return a - b; });
    var nears = Array.from(new Set(rows.map(function (r) { return num(r.near_km); }))).sort(function (a, b) { return a - b; });
    var maxT = 0;
    rows.forEach(function (r) { maxT = Math.max(maxT, num(r.linked_tonnes) || 0); });
    var t = add(box, el('table', { class: 'sens' }));
    add(t, el('caption', { class: 'hint' }, 'Look-back ' + (lb === null ? '?' : lb) + ' days'));
    var hr = add(add(t, el('thead')), el('tr'));
    add(hr, el('th', { scope: 'col' }, 'window \u2193 / depot km \u2192'));
    nears.forEach(function (n) { add(hr, el('th', { scope: 'col' }, fmtInt(n) + ' km')); });
    var tb = add(t, el('tbody'));
    wins.forEach(function (w) {
      var tr = add(tb, el('tr'));
      add(tr, el('th', { scope: 'row' }, fmtInt(w) + ' days'));
      nears.forEach(function (n) {
        var r = rows.find(function (q) { return num(q.window_days) === w && num(q.near_km) === n; });
        var td = add(tr, el('td'));
        if (!r) { td.textContent = '\u2014'; return; }
        var a = maxT > 0 ? (num(r.linked_tonnes) || 0) / maxT : 0;
        td.style.backgroundColor = 'rgba(192, 57, 43, ' + (0.08 + 0.8 * a).toFixed(3) + ')';
        if (a > 0.55) td.classList.add('dark');
        if (w === num(PARAMS.window_days) && n === num(PARAMS.near_km) && lb === num(PARAMS.lookback_days)) td.classList.add('current');
        add(td, el('span', { class: 't' }, fmtT(r.linked_tonnes) + ' t'));
        add(td, el('span', { class: 'p' }, 'p = ' + fmtP(r.p_value, r.permutations)));
        // the depot distance moves only which sites count as near a depot: show those
        if (r.sites_near_facility !== undefined) add(td, el('span', { class: 's' }, fmtInt(r.sites_near_facility) + '/' + fmtInt(r.sites) + ' near'));
        else if (r.sites !== undefined) add(td, el('span', { class: 's' }, fmtInt(r.sites) + ' sites'));
        setAttrs(td, { title: 'window ' + w + ' d, depot ' + n + ' km, look-back ' + lb + ' d' });
      });
    });
  }

  // ------------------------------------------------------------------ sankey
  function drawSankey() {
    var svg = document.getElementById('sankey');
    clear(svg);
    var agg = new Map();
    arr(MAP.flows).map(obj).forEach(function (f) {
      var t = num(f.tonnes);
      if (t === null || t <= 0) return;
      var key = String(f.port_locode) + '\u0000' + String(f.site_id);
      var cur = agg.get(key) || { port: String(f.port_locode), site: String(f.site_id), t: 0 };
      cur.t += t;
      agg.set(key, cur);
    });
    var flows = Array.from(agg.values());
    var W = widthOf(svg, 340);
    if (!flows.length) { emptyChart(svg, W, 120, 'No port-to-site flows in the report data'); return; }
    var portT = new Map(), siteT = new Map();
    flows.forEach(function (f) {
      portT.set(f.port, (portT.get(f.port) || 0) + f.t);
      siteT.set(f.site, (siteT.get(f.site) || 0) + f.t);
    });
    var portsOrd = Array.from(portT.keys()).sort(function (a, b) { return portT.get(b) - portT.get(a); });
    var sitesOrd = Array.from(siteT.keys()).sort(function (a, b) {
      var ia = siteIndex.has(a) ? siteIndex.get(a) : 1e9, ib = siteIndex.has(b) ? siteIndex.get(b) : 1e9;
      return ia - ib || siteT.get(b) - siteT.get(a);
    });
    var total = flows.reduce(function (s, f) { return s + f.t; }, 0);
    var narrow = W < 520;
    var nameLen = narrow ? 15 : W < 700 ? 22 : 32;
    var siteText = new Map();
    sitesOrd.forEach(function (s) {
      var si = siteIndex.get(s);
      var name = si !== undefined ? siteLabel(si) : clean(s);
      siteText.set(s, { name: name, text: trunc(name, nameLen) + ' \u2014 ' + fmtT(siteT.get(s)) + ' t' });
    });
    var longest = 0;
    siteText.forEach(function (v) { longest = Math.max(longest, textW(v.text, 11)); });
    var portText = new Map();
    var longestPort = 0;
    portsOrd.forEach(function (p) {
      var pn = portByCode.get(p);
      var nm = trunc(pn && pn.name ? clean(pn.name) : clean(p), narrow ? 11 : W < 700 ? 14 : 20);
      portText.set(p, nm);
      longestPort = Math.max(longestPort, textW(nm, 11), textW(fmtT(portT.get(p)) + ' t', 11));
    });
    var ml = Math.min(Math.round(W * 0.3), Math.round(longestPort + 14)), nodeW = 12, mt = 10;
    var mr = Math.min(Math.round(W * 0.45), Math.round(longest + 24));
    var gapR = 5, gapL = 16;
    var H = Math.max(220, sitesOrd.length * 24 + 2 * mt);
    var k = Math.min((H - 2 * mt - gapR * (sitesOrd.length - 1)) / total, (H - 2 * mt - gapL * (portsOrd.length - 1)) / total);
    setAttrs(svg, { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H });
    var xL = ml, xR = W - mr - nodeW;
    var pY = new Map(), sY = new Map();
    var hL = total * k + gapL * (portsOrd.length - 1);
    var yc = mt + (H - 2 * mt - hL) / 2;
    portsOrd.forEach(function (p) { pY.set(p, { y: yc, cur: yc }); yc += portT.get(p) * k + gapL; });
    var hR = total * k + gapR * (sitesOrd.length - 1);
    yc = mt + (H - 2 * mt - hR) / 2;
    sitesOrd.forEach(function (s) { sY.set(s, { y: yc, cur: yc }); yc += siteT.get(s) * k + gapR; });
    var colour = new Map();
    portsOrd.forEach(function (p, i) { colour.set(p, ['#1f5fae', '#c0392b', '#16a085', '#d4ac0d', '#6c3483'][i % 5]); });
    var gB = add(svg, sv('g'));
    var ordered = flows.slice().sort(function (a, b) {
      return portsOrd.indexOf(a.port) - portsOrd.indexOf(b.port) || sitesOrd.indexOf(a.site) - sitesOrd.indexOf(b.site);
    });
    var bands = ordered.map(function (f) {
      var h = f.t * k;
      var p = pY.get(f.port);
      var y0 = p.cur; p.cur += h;
      return { f: f, h: h, y0: y0 };
    });
    // right side: fill in port order within each site
    bands.slice().sort(function (a, b) {
      return sitesOrd.indexOf(a.f.site) - sitesOrd.indexOf(b.f.site) || portsOrd.indexOf(a.f.port) - portsOrd.indexOf(b.f.port);
    }).forEach(function (b) { var s = sY.get(b.f.site); b.y1 = s.cur; s.cur += b.h; });
    var x0 = xL + nodeW, x1 = xR, xm = (x0 + x1) / 2;
    bands.forEach(function (b) {
      var si = siteIndex.get(b.f.site);
      var d = 'M' + r1(x0) + ',' + r1(b.y0) + 'C' + r1(xm) + ',' + r1(b.y0) + ' ' + r1(xm) + ',' + r1(b.y1) + ' ' + r1(x1) + ',' + r1(b.y1) +
        'L' + r1(x1) + ',' + r1(b.y1 + b.h) + 'C' + r1(xm) + ',' + r1(b.y1 + b.h) + ' ' + r1(xm) + ',' + r1(b.y0 + b.h) + ' ' + r1(x0) + ',' + r1(b.y0 + b.h) + 'Z';
      tip(add(gB, sv('path', { class: 'sankey-band', d: d, fill: colour.get(b.f.port) })),
        portName(b.f.port) + ' \u2192 ' + (si !== undefined ? siteLabel(si) : clean(b.f.site)) + ': ' + fmtT(b.f.t) + ' t');
    });
    var gN = add(svg, sv('g'));
    portsOrd.forEach(function (p) {
      var o = pY.get(p), h = Math.max(1, portT.get(p) * k);
      tip(add(gN, sv('rect', { class: 'sankey-node port', x: xL, y: r1(o.y), width: nodeW, height: r1(h), fill: colour.get(p) })), portName(p) + ': ' + fmtT(portT.get(p)) + ' t');
      var nm = portText.get(p);
      add(gN, sv('text', { class: 'sankey-label', x: xL - 5, y: r1(o.y + h / 2 - 2), 'text-anchor': 'end' }, nm));
      add(gN, sv('text', { class: 'sankey-label tick-label', x: xL - 5, y: r1(o.y + h / 2 + 11), 'text-anchor': 'end' }, fmtT(portT.get(p)) + ' t'));
    });
    // right labels with simple collision relaxation
    var labels = sitesOrd.map(function (s) {
      var o = sY.get(s), h = siteT.get(s) * k;
      return { s: s, y: o.y, h: h, want: o.y + h / 2 };
    });
    var minGap = 13;
    labels.forEach(function (l, i) { l.ly = Math.max(l.want, i ? labels[i - 1].ly + minGap : mt + 5); });
    for (var i = labels.length - 1; i >= 0; i--) {
      var maxY = i === labels.length - 1 ? H - 5 : labels[i + 1].ly - minGap;
      labels[i].ly = Math.min(labels[i].ly, maxY);
    }
    labels.forEach(function (l) {
      var name = siteText.get(l.s).name;
      tip(add(gN, sv('rect', { class: 'sankey-node', x: xR, y: r1(l.y), width: nodeW, height: r1(Math.max(1, l.h)) })), name + ': ' + fmtT(siteT.get(l.s)) + ' t');
      var lx = xR + nodeW + 10;
      if (Math.abs(l.ly - l.want) > 1) {
        add(gN, sv('path', { d: 'M' + (xR + nodeW + 1) + ',' + r1(l.want) + 'L' + (lx - 2) + ',' + r1(l.ly), stroke: '#9aa3af', 'stroke-width': 0.8, fill: 'none' }));
      }
      add(gN, sv('text', { class: 'sankey-label', x: lx, y: r1(l.ly + 4) }, siteText.get(l.s).text));
    });
  }

  // ------------------------------------------------------------------ shipments table
  var COLS = [
    { key: 'waybill', label: 'Waybill', nowrap: true },
    { key: 'wagon', label: 'Wagon', nowrap: true },
    { key: 'departed', label: 'Departed', nowrap: true },
    { key: 'from', label: 'From station' },
    { key: 'to', label: 'To station' },
    { key: 'site', label: 'Site' },
    { key: 'cargo', label: 'Cargo (as recorded)', lang: 'ru', wrap: true },
    { key: 'tonnes', label: 'Tonnes', num: true },
    { key: 'arrival', label: 'Linked arrival' },
    { key: 'lag', label: 'Lag (days)', num: true },
    { key: 'listed', label: 'Watchlist' }
  ];
  var ROWS = SHIPMENTS.map(function (s, idx) {
    var a = arrivalById.get(String(s.arrival_id));
    var si = siteIndex.get(String(s.site_id));
    var r = {
      idx: idx,
      siteIdx: si === undefined ? -1 : si,
      waybill: clean(s.waybill),
      wagon: clean(s.wagon),
      departed: clean(s.departed_on),
      from: clean(s.origin_station),
      to: clean(s.destination_station),
      site: si !== undefined ? siteLabel(si) : clean(s.site_id),
      cargo: clean(s.cargo) + (s.cargo_class ? ' [' + clean(s.cargo_class) + ']' : ''),
      tonnes: num(s.tonnes),
      arrival: a ? clean(a.vessel_name) + ' \u00b7 ' + portName(a.port_locode) + ' ' + fmtDate(parseT(a.arrived_at)) : clean(s.arrival_id),
      lag: num(s.lag_days),
      listed: listedLabel(arr(s.watchlist))
    };
    r.search = [r.waybill, r.wagon, r.departed, r.from, r.to, r.site, r.cargo, r.arrival, r.listed, clean(s.source_file)].join('\u0001').toLocaleLowerCase();
    return r;
  });
  var PAGE = 50;
  var tableState = { q: '', site: '', sort: null, dir: 1, limit: PAGE, expanded: new Set() };

  function filteredRows() {
    var q = tableState.q.trim().toLocaleLowerCase();
    var terms = q ? q.split(/\s+/) : [];
    var site = tableState.site === '' ? null : Number(tableState.site);
    var rows = ROWS.filter(function (r) {
      if (site !== null && r.siteIdx !== site) return false;
      return terms.every(function (t) { return r.search.indexOf(t) >= 0; });
    });
    if (tableState.sort) {
      var col = COLS.find(function (c) { return c.key === tableState.sort; });
      var k = tableState.sort, dir = tableState.dir;
      rows.sort(function (a, b) {
        var va = a[k], vb = b[k];
        if (col.num) {
          if (va === null && vb === null) return a.idx - b.idx;
          if (va === null) return 1;
          if (vb === null) return -1;
          return (va - vb) * dir || a.idx - b.idx;
        }
        return va.localeCompare(vb, undefined, { numeric: true }) * dir || a.idx - b.idx;
      });
    }
    return rows;
  }

  function renderDetail(tbody, r) {
    var s = SHIPMENTS[r.idx];
    var tr = add(tbody, el('tr', { class: 'detail' }));
    var td = add(tr, el('td', { colspan: COLS.length + 1 }));
    var chain = arr(s.evidence_chain);
    if (chain.length) {
      var ol = add(td, el('ol'));
      chain.forEach(function (line) { add(ol, el('li', null, line)); });
    } else {
      add(td, el('p', null, 'No evidence chain recorded.'));
    }
    var src = [];
    if (s.source_file) src.push('file ' + clean(s.source_file));
    if (s.source_row !== undefined && s.source_row !== null) src.push('row ' + clean(s.source_row));
    add(td, el('div', { class: 'source' }, 'Source: ' + (src.length ? src.join(', ') : 'not recorded') +
      (s.cargo_class ? ' \u00b7 cargo class: ' + clean(s.cargo_class) : '')));
  }

  function renderTable() {
    var head = document.getElementById('shipments-head');
    var body = document.getElementById('shipments-body');
    clear(head);
    clear(body);
    add(head, el('th', { scope: 'col' }, ''));
    COLS.forEach(function (c) {
      var sorted = tableState.sort === c.key;
      var th = add(head, el('th', {
        scope: 'col', class: 'sortable' + (c.num ? ' num' : ''), tabindex: 0, 'data-col': c.key,
        'aria-sort': sorted ? (tableState.dir > 0 ? 'ascending' : 'descending') : 'none'
      }, c.label));
      add(th, el('span', { class: 'arrow', 'aria-hidden': 'true' }, sorted ? (tableState.dir > 0 ? '\u25b2' : '\u25bc') : '\u21c5'));
      function go() {
        if (tableState.sort === c.key) tableState.dir = -tableState.dir;
        else { tableState.sort = c.key; tableState.dir = c.num ? -1 : 1; }
        renderTable();
      }
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(); } });
    });
    var rows = filteredRows();
    var shown = rows.slice(0, tableState.limit);
    shown.forEach(function (r) {
      var tr = add(body, el('tr', { class: 'ship' }));
      var open = tableState.expanded.has(r.idx);
      var tdb = add(tr, el('td'));
      var btn = add(tdb, el('button', { type: 'button', class: 'expand', 'aria-expanded': open ? 'true' : 'false', 'aria-label': 'Evidence for waybill ' + r.waybill }, open ? '\u2212' : '+'));
      btn.addEventListener('click', function () {
        if (tableState.expanded.has(r.idx)) tableState.expanded.delete(r.idx); else tableState.expanded.add(r.idx);
        renderTable();
      });
      COLS.forEach(function (c) {
        var v = r[c.key];
        var txt = c.num ? (c.key === 'tonnes' ? fmtT(v) : fmtInt(v)) : v;
        add(tr, el('td', { class: c.num ? 'num' : c.nowrap ? 'nowrap' : c.wrap ? 'wrap' : null, lang: c.lang || null }, txt));
      });
      if (open) renderDetail(body, r);
    });
    if (!shown.length) add(add(body, el('tr')), el('td', { colspan: COLS.length + 1, class: 'empty' }, ROWS.length ? 'No shipment matches the search.' : 'No linked shipments.'));
    document.getElementById('shipment-count').textContent =
      'Showing ' + fmtInt(shown.length) + ' of ' + fmtInt(rows.length) + ' matching' + (rows.length !== ROWS.length ? ' (' + fmtInt(ROWS.length) + ' in total)' : '') +
      ' \u00b7 ' + fmtT(rows.reduce(function (s, r) { return s + (r.tonnes || 0); }, 0)) + ' t';
    var more = document.getElementById('shipments-more'), all = document.getElementById('shipments-all');
    more.hidden = all.hidden = rows.length <= shown.length;
  }

  function initTable() {
    var search = document.getElementById('shipment-search');
    var select = document.getElementById('shipment-site');
    SITES.forEach(function (s, i) { add(select, el('option', { value: String(i) }, siteLabel(i))); });
    search.addEventListener('input', function () { tableState.q = search.value; tableState.limit = PAGE; renderTable(); });
    select.addEventListener('change', function () { tableState.site = select.value; tableState.limit = PAGE; renderTable(); });
    document.getElementById('shipments-more').addEventListener('click', function () { tableState.limit += PAGE; renderTable(); });
    document.getElementById('shipments-all').addEventListener('click', function () { tableState.limit = Infinity; renderTable(); });
    document.querySelectorAll('button.site-filter').forEach(function (b) {
      b.addEventListener('click', function (ev) {
        ev.stopPropagation();
        select.value = b.getAttribute('data-site');
        tableState.site = select.value;
        tableState.limit = PAGE;
        renderTable();
        document.getElementById('shipments').scrollIntoView({ block: 'start' });
      });
    });
    renderTable();
  }

  // ------------------------------------------------------------------ watchlist
  var HITS = arr(F.watchlist_hits).map(obj);
  var CLUSTERS = arr(F.party_clusters).map(obj);
  var SCREEN = obj(F.screening);
  function listedLabel(hits) {
    var seen = [];
    hits.map(obj).forEach(function (h) {
      var label = (h.role ? clean(h.role) + ': ' : '') + clean(h.list);
      if (seen.indexOf(label) < 0) seen.push(label);
    });
    return seen.join('; ');
  }
  function flagText(f) {
    f = obj(f);
    var listed = clean(f.list) || '?';
    var seen = arr(f.ais).concat(arr(f.reported)).map(clean).filter(function (x, i, a) { return x && a.indexOf(x) === i; });
    if (!f.list && !seen.length) return '\u2014';
    return listed + ' / ' + (seen.join(', ') || '?') + (f.check && f.check !== 'unknown' ? ' (' + clean(f.check).replace('_', ' ') + ')' : '');
  }
  function isHit(h) {
    return h.status ? h.status === 'hit' : num(h.score) !== null && num(h.score) >= (num(SCREEN.hit_min) || 0.85);
  }
  function whyText(h) {
    if (h.explanation) return clean(h.explanation);
    return '\u2014';
  }
  function drawWatchlist() {
    var body = document.getElementById('watchlist-body');
    var summary = document.getElementById('watchlist-summary');
    if (!body) return;
    clear(body);
    var lists = arr(SCREEN.lists).map(obj);
    var hits = HITS.filter(isHit);
    var leads = HITS.filter(function (h) { return !isHit(h); });
    if (summary) {
      summary.textContent = lists.length
        ? 'Screened against ' + lists.map(function (l) {
          return clean(l.list) + ' (' + (l.published ? clean(l.published) : 'date not stated') + ', ' + clean(l.source_file) + ', ' + fmtInt(l.entries) + ' entries)';
        }).join('; ') + '. ' + fmtInt(hits.length) + ' hit' + (hits.length === 1 ? '' : 's') + ', ' + fmtInt(SCREEN.hits_in_chain) + ' in an evidence chain; ' +
          fmtInt(leads.length) + ' lead' + (leads.length === 1 ? '' : 's') + ' (below).'
        : 'No watchlist in the case: add one with `cargotrace ingest watchlist FILE` (OFAC SDN CSV, UN consolidated XML, FollowTheMoney JSON lines or a simple CSV).';
    }
    drawLeads(leads);
    if (!hits.length) {
      add(add(body, el('tr')), el('td', { colspan: 12, class: 'empty' }, lists.length ? 'No vessel or party of the case is a hit on a list entry.' : 'No watchlist screened.'));
      return;
    }
    hits.forEach(function (h) {
      var tr = add(body, el('tr', { class: h.in_chain ? 'highlight' : null }));
      add(tr, el('td', null, h.in_chain ? 'yes' + (num(h.shipments) ? ' (' + fmtInt(h.shipments) + ' shipments)' : '') : 'no'));
      var ids = [];
      if (h.imo) ids.push('IMO ' + clean(h.imo));
      if (h.mmsi) ids.push('MMSI ' + clean(h.mmsi));
      if (h.cluster_id) ids.push(clean(h.cluster_id));
      add(tr, el('td', { title: ids.join(' \u00b7 ') || null }, clean(h.subject_type) + ': ' + clean(h.subject)));
      add(tr, el('td', null, h.role));
      add(tr, el('td', { title: h.list_file ? 'file ' + clean(h.list_file) : null }, clean(h.list) + (h.list_date ? ' (' + clean(h.list_date) + ')' : '')));
      add(tr, el('td', { title: clean(h.entry_id) }, h.entry));
      add(tr, el('td', null, h.matched_name ? clean(h.matched_name) + (h.name_kind && h.name_kind !== 'name' ? ' [' + clean(h.name_kind).replace('_', ' ') + ']' : '') : '\u2014'));
      var rules = arr(h.rules).map(clean).filter(function (r) { return r && r !== clean(h.rule); });
      add(tr, el('td', { title: arr(h.notes).map(clean).join('; ') || null }, clean(h.rule) + (rules.length ? ' (+ ' + rules.join(', ') + ')' : '')));
      add(tr, el('td', { class: 'num' }, num(h.score) === null ? '\u2014' : num(h.score).toFixed(2)));
      add(tr, el('td', { class: 'wrap' }, whyText(h)));
      add(tr, el('td', { class: 'nowrap' }, h.subject_type === 'vessel' ? flagText(h.flags) : '\u2014'));
      add(tr, el('td', null, h.programs || '\u2014'));
      var linked = arr(h.linked).map(obj).map(function (l) {
        return clean(l.relation).replace('_', ' ') + ' ' + clean(l.name) + (l.listed ? ' (listed)' : '');
      });
      add(tr, el('td', null, linked.join('; ') || '\u2014'));
    });
  }
  var LEAD_COLS = [
    { key: 'subject', label: 'Subject in the case' },
    { key: 'entry', label: 'Entry as listed' },
    { key: 'list', label: 'List (date)' },
    { key: 'rule', label: 'Rule' },
    { key: 'score', label: 'Score', num: true },
    { key: 'why', label: 'Why: features, penalties' },
    { key: 'flag', label: 'Flag: list / AIS' }
  ];
  var leadState = { sort: 'score', dir: -1, q: '' };
  function drawLeads(leads) {
    var head = document.getElementById('leads-head');
    var body = document.getElementById('leads-body');
    var summ = document.getElementById('leads-summary');
    var search = document.getElementById('leads-search');
    if (!head || !body) return;
    if (summ) summ.textContent = fmtInt(leads.length) + ' lead' + (leads.length === 1 ? '' : 's') + ': name matches without enough corroboration (collapsed)';
    var rows = leads.map(function (h) {
      var ids = [];
      if (h.imo) ids.push('IMO ' + clean(h.imo));
      if (h.mmsi) ids.push('MMSI ' + clean(h.mmsi));
      var r = {
        subject: clean(h.subject_type) + ': ' + clean(h.subject) + (ids.length ? ' (' + ids.join(', ') + ')' : ''),
        entry: clean(h.entry) + (h.matched_name && clean(h.matched_name) !== clean(h.entry) ? ' [' + clean(h.matched_name) + ']' : ''),
        list: clean(h.list) + (h.list_date ? ' (' + clean(h.list_date) + ')' : ''),
        rule: clean(h.rule), score: num(h.score), why: whyText(h),
        flag: h.subject_type === 'vessel' ? flagText(h.flags) : '\u2014'
      };
      r.search = [r.subject, r.entry, r.list, r.rule, r.why, r.flag, clean(h.role), clean(h.programs)].join('\u0001').toLocaleLowerCase();
      return r;
    });
    function render() {
      clear(head);
      clear(body);
      LEAD_COLS.forEach(function (c) {
        var sorted = leadState.sort === c.key;
        var th = add(head, el('th', {
          scope: 'col', class: 'sortable' + (c.num ? ' num' : ''), tabindex: 0, 'data-col': c.key,
          'aria-sort': sorted ? (leadState.dir > 0 ? 'ascending' : 'descending') : 'none'
        }, c.label));
        add(th, el('span', { class: 'arrow', 'aria-hidden': 'true' }, sorted ? (leadState.dir > 0 ? '\u25b2' : '\u25bc') : '\u21c5'));
        function go() {
          if (leadState.sort === c.key) leadState.dir = -leadState.dir;
          else { leadState.sort = c.key; leadState.dir = c.num ? -1 : 1; }
          render();
        }
        th.addEventListener('click', go);
        th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(); } });
      });
      var terms = leadState.q.toLocaleLowerCase().split(/\s+/).filter(Boolean);
      var shown = rows.filter(function (r) { return terms.every(function (t) { return r.search.indexOf(t) >= 0; }); });
      var key = leadState.sort, dir = leadState.dir;
      shown.sort(function (a, b) {
        var x = a[key], y = b[key];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : 1) * dir;
      });
      shown.forEach(function (r) {
        var tr = add(body, el('tr'));
        LEAD_COLS.forEach(function (c) {
          add(tr, el('td', { class: c.num ? 'num' : c.key === 'why' ? 'wrap' : null }, c.num ? (r[c.key] === null ? '\u2014' : r[c.key].toFixed(2)) : r[c.key]));
        });
      });
      if (!shown.length) add(add(body, el('tr')), el('td', { colspan: LEAD_COLS.length, class: 'empty' }, rows.length ? 'No lead matches the search.' : 'No leads.'));
      var count = document.getElementById('leads-count');
      if (count) count.textContent = 'Showing ' + fmtInt(shown.length) + ' of ' + fmtInt(rows.length);
    }
    if (search && !search.dataset.bound) {
      search.dataset.bound = '1';
      search.addEventListener('input', function () { leadState.q = search.value; render(); });
    }
    render();
  }
  function drawClusters() {
    var body = document.getElementById('clusters-body');
    if (!body) return;
    clear(body);
    if (!CLUSTERS.length) {
      add(add(body, el('tr')), el('td', { colspan: 7, class: 'empty' }, 'No organisation appears under several spellings.'));
      return;
    }
    CLUSTERS.forEach(function (c) {
      var tr = add(body, el('tr'));
      add(tr, el('td', { class: 'nowrap' }, c.cluster_id));
      add(tr, el('td', { lang: 'ru' }, c.canonical));
      var td = add(tr, el('td', { lang: 'ru' }));
      var ul = add(td, el('ul'));
      arr(c.spellings).map(obj).forEach(function (m) {
        add(ul, el('li', null, '\u00ab' + clean(m.name) + '\u00bb \u00d7 ' + fmtInt(m.records) + (arr(m.roles).length ? ' (' + arr(m.roles).map(clean).join(', ') + ')' : '')));
      });
      add(tr, el('td', null, arr(c.roles).map(clean).join(', ')));
      add(tr, el('td', { class: 'num' }, fmtInt(c.records)));
      add(tr, el('td', null, arr(c.inn).concat(arr(c.ogrn)).map(clean).join(', ') || '\u2014'));
      add(tr, el('td', null, c.listed ? 'yes' : 'no'));
    });
  }
  function flagArrivals() {
    ARRIVALS.forEach(function (a, i) {
      var all = arr(a.watchlist).map(obj);
      var hits = all.filter(isHit);
      var row = document.getElementById('arrival-row-' + i);
      if (!all.length || !row || !row.firstElementChild) return;
      if (!hits.length) {
        add(row.firstElementChild, el('span', null, ' '));
        add(row.firstElementChild, el('span', { title: all.map(function (h) { return clean(h.list) + ': ' + clean(h.entry) + ' (' + clean(h.rule) + ')'; }).join('; ') }, 'lead: ' + listedLabel(all)));
        return;
      }
      var detail = hits.map(function (h) {
        return clean(h.list) + ': ' + clean(h.entry) + ' (' + clean(h.rule) + ', ' + (num(h.score) === null ? '?' : num(h.score).toFixed(2)) + ')';
      }).join('; ');
      add(row.firstElementChild, el('span', null, ' '));
      add(row.firstElementChild, el('strong', { title: detail }, '\u2691 listed: ' + listedLabel(hits)));
    });
  }

  // ------------------------------------------------------------------ vessels (map, timeline)
  // The vessel story (report/vessel_data.py): ports sized by calls, dark periods as dashed
  // lines from the last to the first fix, meetings as points; a timeline per vessel whose time
  // axis is broken where no vessel has an event (samples years apart stay readable).
  var VS = obj(DATA.vessels);
  arr(VS.ports).map(obj).forEach(function (p) {  // names for portName() of ports off the rail map
    if (!portByCode.has(String(p.locode))) portByCode.set(String(p.locode), { locode: p.locode, name: p.name, lat: p.lat, lon: p.lon, role: 'other' });
  });
  function vesselName(name, mmsi) {
    return clean(name || '') ? clean(name) + (mmsi ? ' (MMSI ' + clean(mmsi) + ')' : '') : 'MMSI ' + clean(mmsi || '?');
  }
  // the draught reported before and after a dark period, when it changed (maritime/draught.py)
  function draughtText(g) {
    var a = num(g.draught_before_m), b = num(g.draught_after_m);
    if (a === null || b === null) return '';
    return '\ndraught ' + a + ' m \u2192 ' + b + ' m (' + (b > a ? 'came back deeper: loaded?' : 'came back lighter: unloaded?') + ')';
  }
  function darkCallsText(codes) {
    var list = String(codes || '').split(';').filter(function (c) { return c; });
    return list.length ? '\npossible dark calls (inferred): ' + list.map(portName).join(', ') : '';
  }
  function drawVesselMap() {
    var svg = document.getElementById('vessel-map');
    if (!svg) return;
    clear(svg);
    var origin = clean(PARAMS.origin_country);
    var ports = arr(VS.ports).map(obj).filter(function (p) { return validLL(p.lon, p.lat); });
    var dark = arr(VS.dark).map(obj).filter(function (g) {
      return !g.beyond_dark_call_bound && validLL(g.start_lon, g.start_lat) && validLL(g.end_lon, g.end_lat);
    });
    var meets = arr(VS.encounters).map(obj).filter(function (e) { return validLL(e.lon, e.lat); });
    var pts = ports.map(function (p) { return [num(p.lon), num(p.lat)]; });
    dark.forEach(function (g) { pts.push([num(g.start_lon), num(g.start_lat)], [num(g.end_lon), num(g.end_lat)]); });
    meets.forEach(function (e) { pts.push([num(e.lon), num(e.lat)]); });
    arr(VS.loitering).concat(arr(VS.interference)).map(obj).forEach(function (l) { if (validLL(l.lon, l.lat)) pts.push([num(l.lon), num(l.lat)]); });
    if (!pts.length) { emptyChart(svg, widthOf(svg, 280), 200, 'No located port calls, dark periods or meetings'); return; }
    var m = fitMap(svg, pts, { minH: 260, maxRatio: 0.62, minDeg: 4, pad: 34 });
    var lab = Labeler(m.W, m.H);
    var root = add(svg, sv('g'));
    var gGrat = add(root, sv('g')), gCountries = add(root, sv('g')), gDark = add(root, sv('g'));
    var gPorts = add(root, sv('g')), gMeet = add(root, sv('g')), gLabels = add(root, sv('g'));
    drawGraticule(gGrat, m, m.pr.extent || [0, 0, 0, 0]);
    var lon0 = m.pr.lon0 || 0;
    // a ring that crosses the map's seam (lon0 +- 180) would smear across the whole map
    function crossesSeam(ring) {
      for (var i = 1; i < ring.length; i++) {
        if (!Array.isArray(ring[i]) || !Array.isArray(ring[i - 1])) continue;
        if (Math.abs(wrap180(num(ring[i][0]) - lon0) - wrap180(num(ring[i - 1][0]) - lon0)) > 180) return true;
      }
      return false;
    }
    arr(MAP.countries).map(obj).forEach(function (c) {
      var code = clean(c.code);
      var ds = [];
      arr(c.rings).forEach(function (ring) { var rp = crossesSeam(arr(ring)) ? null : ringPath(m, ring); if (rp) ds.push(rp.d); });
      if (ds.length) tip(add(gCountries, sv('path', { class: 'country' + (code && code === origin ? ' origin' : ''), d: ds.join('') })), clean(c.name));
    });
    dark.slice().reverse().forEach(function (g) {
      var a = m.p(num(g.start_lon), num(g.start_lat)), b = m.p(num(g.end_lon), num(g.end_lat));
      var calls = String(g.possible_dark_calls || '') !== '';
      var cls = 'dark' + (calls ? ' calls' : '') + (g.likely_intentional ? ' intentional' : '');
      var ta = parseT(g.started_at), tb = parseT(g.ended_at);
      tip(add(gDark, sv('path', { class: cls, d: 'M' + r1(a[0]) + ',' + r1(a[1]) + 'L' + r1(b[0]) + ',' + r1(b[1]) })),
        vesselName(g.vessel_name, g.mmsi) + ': dark ' + fmtDateTime(ta) + ' \u2192 ' + fmtDateTime(tb) + ' (' + fmtT(num(g.hours) / 24) + ' days)' + (g.likely_intentional ? '\nlooks intentional (GFW rule)' : '') + draughtText(g) + darkCallsText(g.possible_dark_calls));
      // the ends, so that a short dark stretch still shows where it was
      add(gDark, sv('circle', { class: 'dark-end' + (calls ? ' calls' : ''), cx: r1(a[0]), cy: r1(a[1]), r: calls ? 2.5 : 1.6 }));
      add(gDark, sv('circle', { class: 'dark-end' + (calls ? ' calls' : ''), cx: r1(b[0]), cy: r1(b[1]), r: calls ? 2.5 : 1.6 }));
    });
    var maxCalls = 1;
    ports.forEach(function (p) { maxCalls = Math.max(maxCalls, num(p.calls) || 0); });
    var geo = ports.map(function (p) {
      var q = m.p(num(p.lon), num(p.lat));
      return { p: p, q: q, r: 3 + 9 * Math.sqrt((num(p.calls) || 0) / maxCalls) };
    });
    geo.forEach(function (o) { lab.block([o.q[0] - o.r, o.q[1] - o.r, o.q[0] + o.r, o.q[1] + o.r]); });
    geo.slice().sort(function (a, b) { return b.r - a.r; }).forEach(function (o) {
      var atOrigin = clean(o.p.country) === origin;
      tip(add(gPorts, sv('circle', { class: 'vport' + (atOrigin ? ' origin' : ''), cx: r1(o.q[0]), cy: r1(o.q[1]), r: r1(o.r) })),
        portName(o.p.locode) + '\n' + fmtInt(o.p.calls) + ' call(s) by ' + fmtInt(o.p.vessels) + ' vessel(s)' + (atOrigin ? '\nport in ' + origin : ''));
    });
    var half = (num(PARAMS.interference_cell_deg) || 0.5) / 2;
    arr(VS.interference).map(obj).filter(function (c) { return validLL(c.lon, c.lat); }).forEach(function (c) {
      var a = m.p(num(c.lon) - half, num(c.lat) + half), b = m.p(num(c.lon) + half, num(c.lat) - half);
      tip(add(gMeet, sv('rect', { class: 'jam', x: r1(Math.min(a[0], b[0])), y: r1(Math.min(a[1], b[1])),
        width: r1(Math.max(4, Math.abs(b[0] - a[0]))), height: r1(Math.max(4, Math.abs(b[1] - a[1]))) })),
        'Likely GNSS interference: ' + fmtInt(c.vessels) + ' vessels jumped impossibly here, ' + fmtDateTime(parseT(c.hour_start)) + ' (hour)');
    });
    arr(VS.loitering).map(obj).filter(function (l) { return validLL(l.lon, l.lat); }).forEach(function (l) {
      var q = m.p(num(l.lon), num(l.lat));
      tip(add(gMeet, sv('rect', { class: 'loiter', x: r1(q[0] - 4), y: r1(q[1] - 4), width: 8, height: 8 })),
        'Loitering: ' + vesselName(l.vessel_name, l.mmsi) + '\n' + fmtDateTime(parseT(l.started_at)) + ' \u2192 ' + fmtDateTime(parseT(l.ended_at)) +
        ' (' + fmtT(l.hours) + ' h, median ' + fmtT(l.median_sog_kn) + ' kn)' + (l.shore_km !== null && l.shore_km !== undefined ? ', ' + fmtT(l.shore_km) + ' km from shore' : ''));
    });
    meets.forEach(function (e) {
      var q = m.p(num(e.lon), num(e.lat));
      tip(add(gMeet, sv('circle', { class: 'meeting', cx: r1(q[0]), cy: r1(q[1]), r: 4.5 })),
        'Meeting: ' + vesselName(e.name_a, e.mmsi_a) + ' and ' + vesselName(e.name_b, e.mmsi_b) + '\n' +
        fmtDateTime(parseT(e.started_at)) + ' \u2192 ' + fmtDateTime(parseT(e.ended_at)) + ', median ' + fmtInt(e.median_distance_m) + ' m apart');
    });
    geo.slice().sort(function (a, b) { return b.r - a.r; }).slice(0, 25).forEach(function (o) {
      var text = trunc(clean(o.p.name || o.p.locode), 20);
      var pos = lab.place(o.q[0], o.q[1], o.r, text, 11);
      if (pos) add(gLabels, sv('text', { class: 'map-label port', x: r1(pos[0]), y: r1(pos[1]), 'text-anchor': pos[2] }, text));
    });
  }

  // A time axis of active stretches joined by fixed-width breaks.
  function brokenAxis(intervals, x0, x1) {
    var pad = DAY / 4, join = 3 * DAY, BREAK = 14;
    var iv = intervals.map(function (p) { return [p[0] - pad, p[1] + pad]; }).sort(function (a, b) { return a[0] - b[0]; });
    var segs = [];
    iv.forEach(function (p) {
      var last = segs[segs.length - 1];
      if (last && p[0] - last[1] <= join) last[1] = Math.max(last[1], p[1]);
      else segs.push([p[0], p[1]]);
    });
    var room = x1 - x0 - BREAK * Math.max(0, segs.length - 1);
    var minW = Math.min(40, room / Math.max(1, segs.length) / 2);
    var total = 0;
    segs.forEach(function (s) { total += s[1] - s[0]; });
    var at = x0;
    var out = segs.map(function (s) {
      var w = minW + (room - minW * segs.length) * (s[1] - s[0]) / (total || 1);
      var seg = { a: s[0], b: s[1], x0: at, x1: at + w };
      at += w + BREAK;
      return seg;
    });
    function x(t) {
      if (!out.length) return x0;
      if (t <= out[0].a) return out[0].x0;
      for (var i = 0; i < out.length; i++) {
        var s = out[i];
        if (t <= s.b) return s.x0 + (s.x1 - s.x0) * (t - s.a) / ((s.b - s.a) || 1);
        var n = out[i + 1];
        if (n && t < n.a) return s.x1 + (n.x0 - s.x1) * (t - s.b) / ((n.a - s.b) || 1);
      }
      return out[out.length - 1].x1;
    }
    return { segs: out, x: x };
  }

  function eventSpan(ev) {
    var a = parseT(ev.started_at), b = parseT(ev.ended_at);
    if (a === null) return null;
    if (ev.kind === 'call' && ev.source === 'sighting') { a = Math.floor(a / DAY) * DAY; b = a + DAY; }
    if (b === null || b < a) b = a + DAY / 2;
    return [a, b];
  }

  function drawVesselTimeline() {
    var svg = document.getElementById('vessel-timeline');
    if (!svg) return;
    clear(svg);
    var lanes = arr(VS.lanes).map(obj);
    var W = widthOf(svg, 360);
    var intervals = [];
    // a stretch longer than dark_call_max_gap_days (a gap, or a call across unrelated samples)
    // keeps only its ends on the axis: it runs through the breaks between them
    var longMs = (num(PARAMS.dark_call_max_gap_days) || 30) * DAY;
    lanes.forEach(function (l) {
      arr(l.events).map(obj).forEach(function (ev) {
        var s = eventSpan(ev);
        if (!s) return;
        if (s[1] - s[0] > longMs) intervals.push([s[0], s[0]], [s[1], s[1]]);
        else intervals.push(s);
      });
    });
    if (!intervals.length) { emptyChart(svg, W, 120, 'No port calls, gaps or meetings to show'); return; }
    var ml = W < 700 ? 96 : 160, mr = 12, laneH = 16, laneGap = 5, top = 32;
    var ax = brokenAxis(intervals, ml, W - mr);
    var H = top + lanes.length * (laneH + laneGap) + 24;
    setAttrs(svg, { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H });
    var gAx = add(svg, sv('g', { class: 'axis' }));
    var lastLabel = -Infinity;
    ax.segs.forEach(function (s, i) {
      add(gAx, sv('line', { class: 'grid-line', x1: r1(s.x0), x2: r1(s.x0), y1: top - 6, y2: H - 20 }));
      var text = fmtDate(s.a + DAY / 4);
      if (s.x0 >= lastLabel && s.x0 + textW(text, 11) < W) {
        add(gAx, sv('text', { class: 'tick-label', x: r1(s.x0 + 2), y: top - 10 }, text));
        lastLabel = s.x0 + textW(text, 11) + 6;
      }
      if (i + 1 < ax.segs.length) {
        var bx = s.x1 + 3;
        add(gAx, sv('path', { class: 'axis-break', d: 'M' + r1(bx) + ',' + (top - 4) + 'L' + r1(bx + 4) + ',' + (top + 6) + 'M' + r1(bx + 4) + ',' + (top - 4) + 'L' + r1(bx + 8) + ',' + (top + 6) }));
      }
    });
    var gL = add(svg, sv('g'));
    lanes.forEach(function (l, k) {
      var y = top + k * (laneH + laneGap);
      var name = vesselName(l.vessel_name, l.mmsi);
      add(gL, sv('rect', { class: 'lane-bg', x: ml, y: y, width: W - ml - mr, height: laneH }));
      tip(add(gL, sv('text', { class: 'lane-label', x: 4, y: y + laneH / 2 + 4 }, trunc(clean(l.vessel_name || l.mmsi || '?'), W < 700 ? 12 : 22))), name);
      arr(l.events).map(obj).forEach(function (ev) {
        var s = eventSpan(ev);
        if (!s) return;
        var xa = ax.x(s[0]), xb = Math.max(ax.x(s[1]), xa + 3);
        if (ev.kind === 'gap') {
          tip(add(gL, sv('rect', { class: 'gap' + (ev.beyond ? ' beyond' : ''), x: r1(xa), y: y + 2, width: r1(xb - xa), height: laneH - 4 })),
            name + ': AIS gap ' + fmtDateTime(s[0]) + ' \u2192 ' + fmtDateTime(s[1]) + ' (' + fmtT(num(ev.hours) / 24) + ' days)' +
            (ev.beyond ? '\nlonger than dark_call_max_gap_days: no dark calls offered' : '') + darkCallsText(ev.what));
        } else if (ev.kind === 'loitering') {
          tip(add(gL, sv('rect', { class: 'loiter', x: r1(xa), y: y + 4, width: r1(xb - xa), height: laneH - 8 })),
            name + ' loitering ' + fmtDateTime(s[0]) + ' \u2192 ' + fmtDateTime(s[1]) + ' (' + fmtT(ev.hours) + ' h)');
        } else if (ev.kind === 'meeting') {
          tip(add(gL, sv('circle', { class: 'meeting', cx: r1((xa + xb) / 2), cy: y + laneH / 2, r: 4 })),
            name + ' met MMSI ' + clean(ev.what) + ', ' + fmtDateTime(s[0]) + ' \u2192 ' + fmtDateTime(parseT(ev.ended_at)));
        } else {
          var src = ev.source === 'sighting' || ev.source === 'both' ? ev.source : 'ais';
          var when = src === 'sighting' ? 'seen on ' + fmtDate(s[0]) : 'arrived ' + fmtDateTime(s[0]) + (parseT(ev.ended_at) !== null ? '\ndeparted ' + fmtDateTime(parseT(ev.ended_at)) : '');
          tip(add(gL, sv('rect', { class: 'call ' + src + ' interest', x: r1(xa), y: y + 1, width: r1(xb - xa), height: laneH - 2, rx: 1.5 })),
            name + ' at ' + portName(ev.what) + '\n' + when + '\nsource: ' + src);
        }
      });
    });
  }

  // ------------------------------------------------------------------ boot
  // a part whose element the report left out (no shipments, no vessels) is skipped
  function safely(name, fn, id) {
    if (id && !document.getElementById(id)) return;
    try { fn(); } catch (e) { console.error('cargotrace report: ' + name + ' failed: ' + (e && e.message)); }
  }
  function drawVisuals() {
    measure();
    safely('map', drawMaps, 'map-overview');
    safely('timeline', drawTimeline, 'timeline');
    safely('lag histogram', drawLag, 'lag-chart');
    safely('sankey', drawSankey, 'sankey');
    safely('vessel map', drawVesselMap, 'vessel-map');
    safely('vessel timeline', drawVesselTimeline, 'vessel-timeline');
  }
  safely('sensitivity', drawSensitivity, 'sensitivity');
  safely('watchlist', drawWatchlist);
  safely('clusters', drawClusters);
  safely('arrival flags', flagArrivals);
  safely('shipments table', initTable, 'shipments-table');
  drawVisuals();
  var lastW = document.documentElement.clientWidth;
  var timer = null;
  window.addEventListener('resize', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var w = document.documentElement.clientWidth;
      if (w !== lastW) { lastW = w; drawVisuals(); }
    }, 150);
  });
  // Redraw at paper width when printing so labels keep their size on the page.
  window.addEventListener('beforeprint', function () {
    document.documentElement.classList.add('printing');
    drawVisuals();
  });
  window.addEventListener('afterprint', function () {
    document.documentElement.classList.remove('printing');
    drawVisuals();
  });
  document.documentElement.setAttribute('data-report-ready', '1');
})();
