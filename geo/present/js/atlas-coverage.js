/* Neighbourhood Renewal Atlas: a Leaflet layer that draws many polygons on one canvas.
 *
 * Geometry comes prepared by geo/coverage.py (Web Mercator integers, delta-encoded, in levels of
 * detail), fetched once per content-named file and kept in memory (and the browser's HTTP cache),
 * so a change of measure or classes only sends the class of each area and its tooltip values.
 * Fills are drawn one path per class; hover and click use a grid index and point-in-polygon tests.
 * Codes, names and values arrive already HTML-escaped by the server. Search, labels, tooltips and which
 * outlines to draw are atlas-map.js's (the same for the SVG renderer): this layer reports hovers and
 * clicks (onHover, onClick) and draws the outlines it is given (mark).
 */
(function () {
  'use strict';
  var R = 6378137, HALF = Math.PI * R;
  // Decoded geometry is kept by the host page (the app page that embeds this map's frame, which the
  // app re-creates on every script run; or this page when opened on its own), in objects made by the
  // host's own constructors, so a re-created frame draws at once and keeps nothing of old frames alive.
  var host = (function () {
    try { return window.parent !== window && window.parent.document ? window.parent : window; } catch (e) { return window; }
  })();
  var kept = host.__atlasGeometry || (host.__atlasGeometry = new host.Map());
  var loading = {};
  var KEEP = 3;

  // One level of detail as geo/present/coverage.py's encode_detail writes it (format 2, after gzip):
  // "ATG2", u32 header length, JSON header (q, n, polys, rings, points, codes, names), u32 polygons per
  // feature, u32 rings per polygon, u32 points per ring, then the x and the y deltas, each zigzagged and
  // split into four byte planes. Rings of a feature are drawn even-odd, so only rings per feature are kept.
  function decode(buffer) {
    var Float64Array = host.Float64Array, Int32Array = host.Int32Array;
    var bytes = new Uint8Array(buffer), view = new DataView(buffer);
    if (bytes.length < 8 || bytes[0] !== 65 || bytes[1] !== 84 || bytes[2] !== 71 || bytes[3] !== 50) {  // ATG2
      throw new Error('not an atlas geometry file (format 2)');
    }
    var size = view.getUint32(4, true), at = 8 + size;
    var head = JSON.parse(new TextDecoder().decode(bytes.subarray(8, at)));
    var n = head.n, polys = head.polys, rings = head.rings, total = head.points, q = head.q;
    var polysOf = new Uint32Array(buffer, at, n), ringsOf = new Uint32Array(buffer, at + 4 * n, polys);
    var pointsOf = new Uint32Array(buffer, at + 4 * (n + polys), rings);
    var px = at + 4 * (n + polys + rings), py = px + 4 * total;
    var xy = new Float64Array(2 * total), ringStart = new Int32Array(rings + 1);
    var featRing = new Int32Array(n + 1), bbox = new Float64Array(n * 4);
    var lx = 0, ly = 0, k = 0, ri = 0, pi = 0, v = 0, i, p, r, j, z;
    for (i = 0; i < n; i++) {
      featRing[i] = ri;
      var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
      for (p = polysOf[i]; p > 0; p--) {
        for (r = ringsOf[pi++]; r > 0; r--) {
          ringStart[ri] = k;
          for (j = pointsOf[ri++]; j > 0; j--, v++) {
            z = (bytes[px + v] | bytes[px + total + v] << 8 | bytes[px + 2 * total + v] << 16 |
                 bytes[px + 3 * total + v] << 24) >>> 0;
            lx += (z >>> 1) ^ -(z & 1);
            z = (bytes[py + v] | bytes[py + total + v] << 8 | bytes[py + 2 * total + v] << 16 |
                 bytes[py + 3 * total + v] << 24) >>> 0;
            ly += (z >>> 1) ^ -(z & 1);
            var x = lx * q, y = ly * q;
            xy[k++] = x; xy[k++] = y;
            if (x < minx) { minx = x; } if (x > maxx) { maxx = x; }
            if (y < miny) { miny = y; } if (y > maxy) { maxy = y; }
          }
        }
      }
      bbox[4 * i] = minx; bbox[4 * i + 1] = miny; bbox[4 * i + 2] = maxx; bbox[4 * i + 3] = maxy;
    }
    featRing[n] = ri; ringStart[ri] = k;
    var out = new host.Object();
    out.n = n; out.xy = xy; out.ringStart = ringStart; out.featRing = featRing; out.bbox = bbox;
    out.codes = head.codes; out.names = head.names;
    return out;
  }

  // Stored gzipped; a server that announced it as Content-Encoding: gzip has had the browser inflate it already.
  function inflated(buffer) {
    var b = new Uint8Array(buffer);
    if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) { return Promise.resolve(buffer); }
    if (typeof DecompressionStream === 'undefined') {
      return Promise.reject(new Error('this browser cannot open a compressed map; use a current Chrome, Edge, ' +
                                      'Firefox or Safari'));
    }
    return new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  }

  function fetchJson(url) {
    return fetch(url, {cache: 'force-cache', credentials: 'same-origin'}).then(function (resp) {
      if (!resp.ok) { throw new Error(url + ': ' + resp.status); }
      return resp.json();
    });
  }

  // A level carried in the page (an exported page, a map prepared in memory): its stored bytes in base64.
  function unbase64(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return bytes.buffer;
  }

  function load(src) {
    if (src.gz) {
      return src.inflated || (src.inflated = inflated(unbase64(src.gz)).then(decode));
    }
    if (kept.has(src.url)) {
      var g = kept.get(src.url);
      kept.delete(src.url); kept.set(src.url, g);  // most recently used last
      return Promise.resolve(g);
    }
    if (!loading[src.url]) {
      loading[src.url] = fetch(src.url, {cache: 'force-cache', credentials: 'same-origin'}).then(function (resp) {
        if (!resp.ok) { throw new Error(src.url + ': ' + resp.status); }
        return resp.arrayBuffer();
      }).then(inflated).then(function (buffer) {
        var g = decode(buffer);
        kept.set(src.url, g);
        while (kept.size > KEEP) { kept.delete(kept.keys().next().value); }
        delete loading[src.url];
        return g;
      });
      loading[src.url].catch(function () { delete loading[src.url]; });
    }
    return loading[src.url];
  }

  function toLatLng(x, y) {
    return L.latLng((2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * 180 / Math.PI, x / R * 180 / Math.PI);
  }

  L.AtlasCoverage = L.Layer.extend({
    options: {padding: 0.1, pane: 'overlayPane'},

    initialize: function (o) {
      this.o = o;
      this._levels = [];
      this._hover = -1;
      this._marks = [];
      this.painted = 0;
    },

    onAdd: function (map) {
      var pane = this.getPane();
      this._canvas = L.DomUtil.create('canvas', 'atlas-coverage leaflet-zoom-animated', pane);
      this._hi = L.DomUtil.create('canvas', 'atlas-coverage leaflet-zoom-animated', pane);
      this._canvas.setAttribute('role', 'img');
      this._canvas.setAttribute('aria-label', this.o.label || 'Map of areas');
      this._canvas.style.pointerEvents = this._hi.style.pointerEvents = 'none';
      this._tip = L.tooltip({sticky: true, className: 'atlas-coverage-tip'});
      var self = this;
      this.ready = load(this.o.details[0]).then(function (g) {
        self._levels[0] = g;
        self._index(g);
        self._update();
        self.fire('load');
        return self;
      });
      this.ready.catch(function (err) { self.error = String(err); self.fire('error'); });
    },

    onRemove: function () {
      L.DomUtil.remove(this._canvas);
      L.DomUtil.remove(this._hi);
      if (this._map) { this._map.closeTooltip(this._tip); }
    },

    getEvents: function () {
      var events = {viewreset: this._update, zoom: this._onZoom, moveend: this._update, resize: this._update,
                    mousemove: this._onMove, mouseout: this._onOut, click: this._onClick};
      if (this._zoomAnimated) { events.zoomanim = this._onAnimZoom; }
      return events;
    },

    // ---- areas, for the search box and the tests
    count: function () { return this._levels[0] ? this._levels[0].n : 0; },
    code: function (i) { return this._levels[0].codes[i]; },
    name: function (i) { return this._levels[0].names[i]; },
    classOf: function (i) { return this.o.classes.charCodeAt(i) - 48; },
    boundsOf: function (i) {
      var b = this._levels[0].bbox;
      return L.latLngBounds(toLatLng(b[4 * i], b[4 * i + 1]), toLatLng(b[4 * i + 2], b[4 * i + 3]));
    },
    getBounds: function () {
      var g = this._levels[0], b = L.latLngBounds([]);
      if (!g) { return b; }
      var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
      for (var i = 0; i < g.n; i++) {
        if (g.bbox[4 * i] > g.bbox[4 * i + 2]) { continue; }
        minx = Math.min(minx, g.bbox[4 * i]); miny = Math.min(miny, g.bbox[4 * i + 1]);
        maxx = Math.max(maxx, g.bbox[4 * i + 2]); maxy = Math.max(maxy, g.bbox[4 * i + 3]);
      }
      return minx < Infinity ? L.latLngBounds(toLatLng(minx, miny), toLatLng(maxx, maxy)) : b;
    },
    values: function () {  // the tooltip values: fetched on first hover (not needed to paint)
      var src = this.o.values, self = this;
      if (!this._valuesReady) {
        this._valuesReady = (src.data ? Promise.resolve(src.data) : fetchJson(src.url)).then(function (v) {
          self._values = v; return v;
        });
        this._valuesReady.catch(function () { self._valuesReady = null; });
      }
      return this._valuesReady;
    },
    tooltipHtml: function (i) {
      var v = this._values, row = null;
      if (!v) { this.values(); } else { row = []; for (var f = 0; f < v.length; f++) { row.push(v[f][i]); } }
      return AtlasMap.tip(this.name(i), this.code(i), this.o.fields, row, this.o.kinds);
    },
    openTip: function (i, at) {  // the tooltip of area i, refreshed once its values have arrived
      var self = this;
      this._tipFor = i;
      this._map.openTooltip(this._tip.setContent(this.tooltipHtml(i)), at);
      if (!this._values) {
        this.values().then(function () { if (self._tipFor === i) { self._tip.setContent(self.tooltipHtml(i)); } });
      }
    },
    mark: function (marks) { this._marks = marks; this._drawHighlight(); },  // [[i, {color, weight}], …]
    // A change of measure, scheme or palette (the live map, ui/atlas_map): the same geometry drawn with new
    // classes, colours and tooltip values; nothing is fetched but the values, on the next hover.
    restyle: function (style) {
      var o = this.o;
      o.classes = style.classes; o.colours = style.colours; o.fields = style.fields; o.kinds = style.kinds;
      if (style.label !== undefined) {
        o.label = style.label;
        if (this._canvas) { this._canvas.setAttribute('aria-label', style.label || 'Map of areas'); }
      }
      if (JSON.stringify(style.values) !== JSON.stringify(o.values)) {
        o.values = style.values; this._values = null; this._valuesReady = null;
      }
      if (this._map) { this._map.closeTooltip(this._tip); }
      this._hover = -1;
      if (this._levels[0]) { this._classIndex(this._levels[0]); this._update(); }
    },

    // ---- drawing
    _level: function () {
      var z = this._map.getZoom(), d = this.o.details, best = 0;
      for (var i = 1; i < d.length; i++) {
        if (z >= d[i].minZoom) {
          if (this._levels[i]) { best = i; } else { this._fetchLevel(i); }
        }
      }
      return this._levels[best];
    },

    _fetchLevel: function (i) {
      if (this._loading) { return; }
      var self = this;
      this._loading = load(this.o.details[i]).then(function (g) {
        self._levels[i] = g; self._loading = null;
        if (self._map) { self._update(); }
      }, function () { self._loading = null; });
    },

    _update: function () {
      if (!this._map || !this._levels[0]) { return; }
      var map = this._map, p = this.options.padding, size = map.getSize();
      var min = map.containerPointToLayerPoint(size.multiplyBy(-p)).round();
      var dim = size.multiplyBy(1 + 2 * p).round();
      this._min = min; this._dim = dim;
      this._center = map.getCenter(); this._zoom = map.getZoom();
      var dpr = window.devicePixelRatio || 1;
      [this._canvas, this._hi].forEach(function (c) {
        L.DomUtil.setPosition(c, min);
        c.width = Math.round(dim.x * dpr); c.height = Math.round(dim.y * dpr);
        c.style.width = dim.x + 'px'; c.style.height = dim.y + 'px';
        c.style.transform = c.style.transform.replace(/scale\([^)]*\)/, '');
      });
      L.DomUtil.setTransform(this._canvas, min, 1);
      L.DomUtil.setTransform(this._hi, min, 1);
      this._draw();
      this._drawHighlight();
    },

    _frame: function () {
      var map = this._map, w = 256 * Math.pow(2, map.getZoom()), s = w / (2 * HALF), origin = map.getPixelOrigin();
      return {s: s, ox: w / 2 - origin.x - this._min.x, oy: w / 2 - origin.y - this._min.y};
    },

    // Trace the rings of features `ids` that meet `view`, calling `flush` every ~2,000 vertices: Skia
    // tessellates one huge path far more slowly than many small ones (1.8 s against 35 ms nationally).
    _paths: function (ctx, g, ids, t, view, flush) {
      var xy = g.xy, rs = g.ringStart, fr = g.featRing, b = g.bbox, s = t.s, ox = t.ox, oy = t.oy, count = 0;
      ctx.beginPath();
      for (var n = 0; n < ids.length; n++) {
        var i = ids[n];
        if (b[4 * i + 2] < view[0] || b[4 * i] > view[2] || b[4 * i + 3] < view[1] || b[4 * i + 1] > view[3]) { continue; }
        for (var r = fr[i]; r < fr[i + 1]; r++) {
          var k = rs[r], end = rs[r + 1];
          count += (end - k) / 2;
          ctx.moveTo(xy[k] * s + ox, oy - xy[k + 1] * s);
          for (k += 2; k < end; k += 2) { ctx.lineTo(xy[k] * s + ox, oy - xy[k + 1] * s); }
          ctx.closePath();
        }
        if (count > 2000) { flush(); ctx.beginPath(); count = 0; }
      }
      if (count) { flush(); }
    },

    _draw: function () {
      var g = this._level(), ctx = this._canvas.getContext('2d'), o = this.o, dpr = window.devicePixelRatio || 1;
      var t = this._frame(), dim = this._dim;
      var view = [-t.ox / t.s, (t.oy - dim.y) / t.s, (dim.x - t.ox) / t.s, t.oy / t.s];
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, dim.x, dim.y);
      ctx.globalAlpha = o.opacity;
      var fill = function () { ctx.fill('evenodd'); }, stroke = function () { ctx.stroke(); };
      for (var c = 0; c < this._byClass.length; c++) {
        var ids = this._byClass[c];
        if (!ids.length) { continue; }
        ctx.fillStyle = c === 0 ? o.noData : o.colours[c - 1];
        this._paths(ctx, g, ids, t, view, fill);
      }
      ctx.globalAlpha = 1;
      var weight = this._map.getZoom() >= o.outlineZoom ? o.weight : 0;
      if (weight > 0) {
        ctx.lineWidth = weight; ctx.strokeStyle = 'rgba(40,40,40,0.7)'; ctx.lineJoin = 'round';
        this._paths(ctx, g, this._all, t, view, stroke);
      }
      this.painted += 1;
      window.atlasPainted = (window.atlasPainted || 0) + 1;
      window.atlasPaintedAt = performance.now();
      if (window.atlasPainted === 1 && !window.atlasFirstPaintAt) {  // this frame's first map on screen: the
        requestAnimationFrame(function () { window.atlasFirstPaintAt = performance.now(); });  // frame after it
      }
      this.fire('paint');
    },

    _drawHighlight: function () {
      var ctx = this._hi.getContext('2d'), dpr = window.devicePixelRatio || 1, g = this._level();
      if (!g) { return; }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, this._dim.x, this._dim.y);
      var t = this._frame(), view = [-Infinity, -Infinity, Infinity, Infinity];
      var marks = this._marks;
      for (var m = 0; m < marks.length; m++) {
        ctx.lineWidth = marks[m][1].weight; ctx.strokeStyle = marks[m][1].color;
        this._paths(ctx, g, [marks[m][0]], t, view, function () { ctx.stroke(); });
      }
    },

    _onZoom: function () { this._transform(this._map.getCenter(), this._map.getZoom()); },
    _onAnimZoom: function (e) { this._transform(e.center, e.zoom); },
    _transform: function (center, zoom) {
      if (!this._min) { return; }
      var map = this._map, scale = map.getZoomScale(zoom, this._zoom);
      var viewHalf = map.getSize().multiplyBy(0.5 + this.options.padding);
      var offset = viewHalf.multiplyBy(-scale).add(map.project(this._center, zoom))
        .subtract(map._getNewPixelOrigin(center, zoom));
      L.DomUtil.setTransform(this._canvas, offset, scale);
      L.DomUtil.setTransform(this._hi, offset, scale);
    },

    // ---- index and hit testing
    _classIndex: function (g) {  // the areas of each class (0: no data), drawn one fill per class
      var nClasses = this.o.colours.length + 1, byClass = [], all = new Int32Array(g.n), i;
      for (i = 0; i < nClasses; i++) { byClass.push([]); }
      for (i = 0; i < g.n; i++) {
        var k = this.classOf(i);
        byClass[k >= 0 && k < nClasses - 1 ? k + 1 : 0].push(i);
        all[i] = i;
      }
      this._byClass = byClass; this._all = all;
    },

    _index: function (g) {
      this._classIndex(g);
      var i, b = g.bbox, minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
      for (i = 0; i < g.n; i++) {
        if (b[4 * i] > b[4 * i + 2]) { continue; }
        minx = Math.min(minx, b[4 * i]); miny = Math.min(miny, b[4 * i + 1]);
        maxx = Math.max(maxx, b[4 * i + 2]); maxy = Math.max(maxy, b[4 * i + 3]);
      }
      var cells = Math.max(1, Math.min(256, Math.ceil(Math.sqrt(g.n / 2))));
      var grid = {minx: minx, miny: miny, cw: (maxx - minx) / cells || 1, ch: (maxy - miny) / cells || 1, n: cells, cells: {}};
      for (i = 0; i < g.n; i++) {
        if (b[4 * i] > b[4 * i + 2]) { continue; }
        var x0 = Math.floor((b[4 * i] - minx) / grid.cw), x1 = Math.min(cells - 1, Math.floor((b[4 * i + 2] - minx) / grid.cw));
        var y0 = Math.floor((b[4 * i + 1] - miny) / grid.ch), y1 = Math.min(cells - 1, Math.floor((b[4 * i + 3] - miny) / grid.ch));
        for (var gx = x0; gx <= x1; gx++) {
          for (var gy = y0; gy <= y1; gy++) { (grid.cells[gx * cells + gy] || (grid.cells[gx * cells + gy] = [])).push(i); }
        }
      }
      this._grid = grid;
    },

    hit: function (latlng) {
      var g = this._level(), grid = this._grid;
      if (!g || !grid) { return -1; }
      var x = latlng.lng * Math.PI / 180 * R;
      var y = Math.log(Math.tan(Math.PI / 4 + latlng.lat * Math.PI / 360)) * R;
      var gx = Math.floor((x - grid.minx) / grid.cw), gy = Math.floor((y - grid.miny) / grid.ch);
      if (gx < 0 || gy < 0 || gx >= grid.n || gy >= grid.n) { return -1; }
      var ids = grid.cells[gx * grid.n + gy] || [], xy = g.xy, b = g.bbox;
      for (var n = 0; n < ids.length; n++) {
        var i = ids[n], inside = false;
        if (x < b[4 * i] || x > b[4 * i + 2] || y < b[4 * i + 1] || y > b[4 * i + 3]) { continue; }
        for (var r = g.featRing[i]; r < g.featRing[i + 1]; r++) {
          var start = g.ringStart[r], end = g.ringStart[r + 1];
          for (var k = start, m = end - 2; k < end; m = k, k += 2) {
            var yk = xy[k + 1], ym = xy[m + 1];
            if ((yk > y) !== (ym > y) && x < (xy[m] - xy[k]) * (y - yk) / (ym - yk) + xy[k]) { inside = !inside; }
          }
        }
        if (inside) { return i; }
      }
      return -1;
    },

    _onMove: function (e) {
      var i = this.hit(e.latlng);
      if (i !== this._hover) {
        this._hover = i;
        if (this.onHover) { this.onHover(i); }
        if (i < 0) { this._map.closeTooltip(this._tip); }
      }
      if (i >= 0) { this.openTip(i, e.latlng); }
    },
    _onOut: function () {
      this._hover = -1;
      if (this.onHover) { this.onHover(-1); }
      if (this._map) { this._map.closeTooltip(this._tip); }
    },
    _onClick: function (e) {
      var i = this.hit(e.latlng);
      if (i >= 0 && this.onClick) { this.onClick(i); }
    }
  });
  // Start fetching and decoding a level before the map is built (the live frame: its args name the coarse level,
  // so the geometry loads while Leaflet and the base are still on their way); the layer's own load gets the same
  // promise, or the decoded geometry kept.
  L.AtlasCoverage.prefetch = function (url) { load({url: url}).catch(function () { /* the layer reports it */ }); };
})();
