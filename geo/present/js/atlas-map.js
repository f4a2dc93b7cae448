/* Neighbourhood Renewal Atlas: the map's one code path for search, value labels, tooltips and highlighting.
 *
 * A renderer draws the areas; this module does everything else, whatever the renderer is:
 *   AtlasMap.svg(map, meta, geojson)     small layers, one SVG path per area (Leaflet's GeoJSON layer);
 *   AtlasMap.canvas(map, meta, payload)  big layers, one canvas (L.AtlasCoverage, atlas-coverage.js).
 * Both hand AtlasMap.attach the same small interface to their areas, by row number i:
 *   ready(fn)        call fn once the areas are known (the canvas fetches its geometry);
 *   count(), code(i), name(i), boundsOf(i)   the areas, their codes, names and lon/lat bounds;
 *   mark(marks)      draw these outlines, [[i, {color, weight}], …] (and clear any others);
 *   openTip(i, at)   open area i's tooltip at a LatLng (its HTML made by AtlasMap.tip).
 * and report hovering by calling the controller's hover(i) (-1: none).
 * Around the areas (both renderers): district outlines and names (meta.outlines, meta.districtLabels, from
 * geo/present/outlines.py), the title naming the searched or hovered place, and presenter mode's large text.
 * Codes, names, values, labels, the legend and the title arrive already HTML-escaped by the server.
 * Served from static/atlas/ by the app; inlined by geo.present.mapping.map_html in offline pages.
 */
(function () {
  'use strict';
  var MARKS = {found: {color: '#e6007e', weight: 4}, hover: {color: '#000', weight: 3},
               district: {color: '#e6007e', weight: 2}};

  // Numbers as geo.present.mapping.format_value (geo/present/numbers.py) writes them, by kind: rank/count/decile
  // '10,263', share '36.2%', score '35.037', money '£12.3m' / '£12,345' ('money-head': '£27.50'), points
  // '2.0 points'; no kind: '29,199' or '35.037'. Minus is U+2212; ties round to even, as Python's format does.
  var MINUS = '\u2212';
  function halfEven(x) { var r = Math.round(x); return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r; }
  function grouped(x, d) {
    var p = Math.pow(10, d), r = halfEven(x * p) / p;
    return r.toLocaleString('en-GB', {minimumFractionDigits: d, maximumFractionDigits: d});
  }
  function signed(text) {  // "-0.0" is just "0.0"
    if (text.charAt(0) !== '-') { return text; }
    text = text.slice(1);
    return /[1-9]/.test(text) ? MINUS + text : text;
  }
  function money(x, perHead) {
    var a = Math.abs(x), body;
    if (perHead) { body = grouped(a, 2); } else if (a >= 1e6) {
      var m = a / 1e6;
      body = (Math.abs(m - Math.round(m)) < 0.05 ? grouped(m, 0) : grouped(m, 1)) + 'm';
    } else { body = grouped(a, 0); }
    return signed((x < 0 ? '-' : '') + '\u00a3' + body);
  }
  function fmt(v, kind) {  // text arrives escaped and is returned as it is
    if (v === null || v === undefined || (typeof v === 'number' && !isFinite(v))) { return 'no data'; }
    if (typeof v !== 'number' || kind === 'text') { return v; }
    if (!kind) {  // as format_value without a kind: whole numbers as counts, others as scores, with the minus sign
      return signed(Number.isInteger(v) ? v.toLocaleString('en-GB')
        : v.toLocaleString('en-GB', {minimumFractionDigits: 3, maximumFractionDigits: 3}));
    }
    if (kind === 'money' || kind === 'money-head') { return money(v, kind === 'money-head'); }
    if (kind === 'rank' || kind === 'count' || kind === 'decile') { return signed(grouped(v, 0)); }
    if (kind === 'share') { return signed(grouped(v * 100, 1) + '%'); }
    if (kind === 'percent') { return signed(grouped(v, 1) + '%'); }  // already in percent: a column headed (%)
    if (kind === 'points') {
      var t = grouped(v, 1);
      return signed(t) + (t.replace('-', '') === '1.0' ? ' point' : ' points');
    }
    return signed(grouped(v, 3));  // score: the IoD's published precision
  }

  // One tooltip for every renderer: name, code, then each field's value ('…' while values load).
  function tip(name, code, fields, values, kinds) {
    var rows = '';
    for (var f = 0; f < fields.length; f++) {
      rows += '<br>' + fields[f] + ': <b>' + (values ? fmt(values[f], kinds && kinds[f]) : '\u2026') + '</b>';
    }
    return '<div class="atlas-tip"><strong>' + name + '</strong> <span>' + code + '</span>' + rows + '</div>';
  }

  // The legend (bottom right; its title collapses it; "In words" a native disclosure), kept within the map's
  // height below the title (it scrolls rather than running off a laptop's map).
  function legendControl(map, meta) {
    var legend = L.control({position: 'bottomright'}), box = null;
    function fit() {
      if (!box) { return; }
      var title = map.getContainer().querySelector('.atlas-title');
      var attribution = map.attributionControl ? map.attributionControl.getContainer().offsetHeight : 0;
      box.style.maxHeight = Math.max(80, map.getSize().y - (title ? title.offsetHeight : 0) - attribution - 40) + 'px';
      // Too tall for the map (ten classes in presenter text on a laptop's step): the classes go in two columns
      // rather than scroll out of the audience's sight; it scrolls only if even that does not fit.
      box.classList.remove('atlas-legend-cols');
      if (box.scrollHeight > box.clientHeight + 1) { box.classList.add('atlas-legend-cols'); }
    }
    function fill(div, meta) {  // the legend's content (again on a change of measure, scheme or palette)
      var open = div.querySelector('.atlas-words[open]') !== null;
      div.setAttribute('role', 'group'); div.setAttribute('aria-label', meta.legendText);
      div.innerHTML = meta.legend;
      var words = div.querySelector('.atlas-words');
      if (open && words) { words.open = true; }
      var head = div.querySelector('.atlas-legend-title');
      if (!head) { return; }
      head.setAttribute('role', 'button'); head.setAttribute('tabindex', '0'); head.title = 'Show or hide the legend';
      function toggle() { div.classList.toggle('collapsed'); }
      head.addEventListener('click', toggle);
      head.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); }
      });
    }
    legend.onAdd = function () {
      var div = box = L.DomUtil.create('div', 'atlas-legend');
      fill(div, meta);
      L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    legend.addTo(map);
    map.on('resize', fit);
    return {fit: fit, set: function (m) { fill(box, m); fit(); }};
  }

  // The map's title, naming a place after it: "Income — score · Hartlepool" (set(name); '' for none).
  function titleControl(map, meta) {
    if (!meta.title && !meta.place) { return {set: function () {}}; }
    var title = L.control({position: 'topright'}), place = null, box = null;
    function fill(m) {
      box.innerHTML = '<span class="atlas-title-main">' + m.title + '</span><span class="atlas-title-place"></span>' +
        (m.subtitle ? '<small>' + m.subtitle + '</small>' : '');
      place = box.querySelector('.atlas-title-place');
    }
    title.onAdd = function () {
      box = L.DomUtil.create('div', 'atlas-title');
      fill(meta);
      return box;
    };
    title.addTo(map);
    return {set: function (name) {
      place.innerHTML = name ? (meta.title ? ' \u00b7 ' : '') + name : '';
      window.atlasPlace = name;
    }, text: fill};
  }

  // District borders over the areas: thin dark lines above the fills, not interactive, drawn by the map's own
  // renderer kind (canvas for big layers, SVG for small). Lines arrive as integers of q degrees, delta-encoded.
  function outlines(map, meta, kind) {
    var o = meta.outlines;
    if (!o || !o.lines || !o.lines.length) { return null; }
    var pane = map.createPane('atlasOutlines');
    pane.style.zIndex = 450; pane.style.pointerEvents = 'none';
    var lines = [];
    for (var l = 0; l < o.lines.length; l++) {
      var a = o.lines[l], x = 0, y = 0, pts = [];
      for (var j = 0; j < a.length; j += 2) { x += a[j]; y += a[j + 1]; pts.push([y * o.q, x * o.q]); }
      lines.push(pts);
    }
    var renderer = kind === 'canvas' ? L.canvas({pane: 'atlasOutlines', padding: 0.2}) : L.svg({pane: 'atlasOutlines'});
    var layer = L.polyline(lines, {pane: 'atlasOutlines', renderer: renderer, interactive: false, color: '#1b1b1b',
                                   weight: 1, opacity: 0.85, lineJoin: 'round', className: 'atlas-outline'});
    layer.addTo(map);
    function restyle() { layer.setStyle({weight: map.getZoom() >= (meta.labelZoom || 9) ? 2 : 1}); }
    map.on('zoomend', restyle); restyle();
    window.atlasOutlines = layer;
    return layer;
  }

  // District names, from meta.labelZoom (none on a national view), biggest districts first. Returns a function
  // that shows or hides them for the current zoom (true: shown), or null when the map has none.
  function districtLabels(map, meta) {
    var labels = meta.districtLabels;
    if (!labels || !labels.length) { return null; }
    var pane = map.createPane('atlasNames');
    pane.style.zIndex = 620; pane.style.pointerEvents = 'none';
    var group = L.layerGroup();
    for (var i = 0; i < labels.length; i++) {
      group.addLayer(L.marker([labels[i][0], labels[i][1]], {pane: 'atlasNames', interactive: false, keyboard: false,
        icon: L.divIcon({className: 'atlas-label atlas-place', html: '<span>' + labels[i][2] + '</span>', iconSize: null})}));
    }
    window.atlasNames = group;
    return function () {
      var on = map.getZoom() >= meta.labelZoom;
      if (on && !map.hasLayer(group)) { group.addTo(map); }
      if (!on && map.hasLayer(group)) { map.removeLayer(group); }
      return on;
    };
  }

  // No label covers another: district names first (biggest districts first), then the value labels; a label that
  // would overlap one already placed is hidden (a hidden value is still in its area's tooltip).
  function declutter(map) {
    var box = map.getContainer().getBoundingClientRect(), placed = [], names = 0;
    function overlaps(a, b) { return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }
    function place(spans, isName) {
      for (var k = 0; k < spans.length; k++) {
        var span = spans[k];
        span.style.visibility = 'visible';
        var r = span.getBoundingClientRect(), hide = false;
        if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) { continue; }
        for (var s = 0; s < placed.length && !hide; s++) { hide = overlaps(r, placed[s]); }
        if (hide) { span.style.visibility = 'hidden'; } else { placed.push(r); if (isName) { names++; } }
      }
    }
    place(map.getContainer().querySelectorAll('.atlas-place span'), true);
    place(map.getContainer().querySelectorAll('.atlas-label:not(.atlas-place) span'), false);
    window.atlasPlaceLabels = names;
  }

  function norm(s) { var t = document.createElement('textarea'); t.innerHTML = s; return t.value.toLowerCase().trim(); }

  // What a search lands on. Levels: the map's areas, and (on an LSOA map) the districts they lie in.
  // Exact code or name (or "name (code)", with or without the list's " — level") first, area before district;
  // then the first district containing it (a district's name is in each of its LSOAs' names), then an area.
  function strip(q) { return q.replace(/\s+\u2014\s+(lsoa|district|area)$/, '').trim(); }
  function findHit(areas, query, districts) {
    var q = strip(query.toLowerCase().trim()), n = areas.count(), i, d;
    if (!q) { return null; }
    var dn = districts ? districts.codes.length : 0;
    function exact(name, code) { return code === q || name === q || (name + ' (' + code + ')') === q; }
    for (i = 0; i < n; i++) {
      if (exact(norm(areas.name(i)), norm(areas.code(i)))) { return {area: i}; }
    }
    for (d = 0; d < dn; d++) {
      if (exact(norm(districts.names[d]), norm(districts.codes[d]))) { return {district: d}; }
    }
    for (d = 0; d < dn; d++) {
      if (norm(districts.names[d]).indexOf(q) >= 0 || norm(districts.codes[d]).indexOf(q) >= 0) { return {district: d}; }
    }
    for (i = 0; i < n; i++) {
      if (norm(areas.name(i)).indexOf(q) >= 0 || norm(areas.code(i)).indexOf(q) >= 0) { return {area: i}; }
    }
    return null;
  }

  // The area (row) a search finds, or -1 (a district found is not an area).
  function find(areas, query) {
    var hit = findHit(areas, query, null);
    return hit ? hit.area : -1;
  }

  function searchControl(map, areas, ctl, meta) {
    var search = L.control({position: 'topleft'});
    search.onAdd = function () {
      var div = L.DomUtil.create('div', 'atlas-search');
      var listId = 'atlas-areas-' + Math.random().toString(36).slice(2);
      div.innerHTML = '<label><span style="position:absolute;left:-9999px">Find an area</span>' +
        '<input type="search" class="atlas-search-input" placeholder="' +
        (meta.districts ? 'Find a district or LSOA by name or code' : 'Find an area by name or code') + '" list="' +
        listId + '"></label>' +
        '<datalist id="' + listId + '"></datalist><div class="atlas-search-msg" aria-live="polite"></div>';
      var list = div.querySelector('datalist'), filled = false;
      function fill() {  // on first focus: a national map has tens of thousands of names
        if (filled) { return; } filled = true;
        areas.ready(function () {  // each match says its level: "Hartlepool (E06000001) — district"
          var opts = [], ds = meta.districts, level = meta.level ? ' \u2014 ' + meta.level : '';
          for (var d = 0; ds && d < ds.codes.length; d++) {
            opts.push('<option value="' + ds.names[d] + ' (' + ds.codes[d] + ') \u2014 district">');
          }
          for (var i = 0, n = areas.count(); i < n; i++) {
            opts.push('<option value="' + areas.name(i) + ' (' + areas.code(i) + ')' + level + '">');
          }
          list.innerHTML = opts.join('');
        });
      }
      L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
      var input = div.querySelector('input'), msg = div.querySelector('.atlas-search-msg'), last = null;
      function go() {
        last = input.value;
        if (!input.value.trim()) { return; }
        areas.ready(function () {
          var hit = findHit(areas, input.value, meta.districts);
          if (hit) { msg.textContent = ''; ctl.land(hit); } else {
            msg.textContent = 'No area matches \u201c' + input.value + '\u201d';
          }
        });
      }
      input.addEventListener('focus', fill);
      input.addEventListener('keydown', function (e) { if (e.key === 'Enter') { go(); } });
      input.addEventListener('change', function () { if (input.value !== last) { go(); } });  // picking from the list
      return div;
    };
    search.addTo(map);
  }

  // The mapped value written on each area (up to 300, placed by the server), so the map is not read by colour alone.
  function valueLabels(map, labels) {
    if (!labels || !labels.length) { return null; }
    var group = L.layerGroup();
    for (var i = 0; i < labels.length; i++) {
      var at = labels[i];
      if (!at) { continue; }
      group.addLayer(L.marker([at[0], at[1]], {interactive: false, keyboard: false, icon: L.divIcon(
        {className: 'atlas-label', html: '<span>' + at[2] + '</span>', iconSize: null})}));
    }
    group.addTo(map);
    window.atlasLabels = group;
    return group;
  }

  // Fit bounds where the legend and title do not cover them: beside the legend (right padding its width, or the
  // title's where that is wider) or above it (top padding the title's height, bottom the legend's), whichever
  // draws the areas larger; a map without a legend (bare) keeps the plain padding.
  function fitClear(map, bounds, pad, extra) {
    var el = map.getContainer(), legend = el.querySelector('.atlas-legend'), title = el.querySelector('.atlas-title');
    var opts = {padding: [pad, pad]};
    if (legend && legend.offsetWidth) {
      var lw = legend.offsetWidth + 10, lh = legend.offsetHeight + 10;
      var tw = title ? title.offsetWidth + 10 : 0, th = title ? title.offsetHeight + 10 : 0;
      var beside = {paddingTopLeft: [pad, pad], paddingBottomRight: [Math.max(lw, tw) + pad, pad]};
      var above = {paddingTopLeft: [pad, th + pad], paddingBottomRight: [pad, lh + pad]};
      var zb = map.getBoundsZoom(bounds, false, L.point(Math.max(lw, tw) + 2 * pad, 2 * pad));
      var za = map.getBoundsZoom(bounds, false, L.point(2 * pad, th + lh + 2 * pad));
      opts = za > zb ? above : beside;
    }
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { opts[k] = extra[k]; } }
    map.fitBounds(bounds, opts);
  }

  // Everything around the renderer: legend, title, search, labels and the found and hovered outlines.
  function attach(map, meta, areas, kind) {
    var found = -1, hover = -1, members = [], foundName = '', hoverName = '', full = meta.chrome !== 'bare';
    // Once the live map is rebuilt for another layer (ctl.dispose) nothing may touch this one: a search or focus
    // waiting on the canvas' geometry would add outlines to a removed map (Leaflet throws on its missing panes).
    var gone = false, whenReady = areas.ready;
    areas.ready = function (fn) { whenReady(function () { if (!gone) { fn(); } }); };
    var title = {set: function () {}}, legend = null;
    function named() { title.set(hoverName || foundName || meta.place || ''); }
    function placeOf(i) {  // the district of area i (LSOA maps), or the area itself on a district map
      if (i < 0) { return ''; }
      if (meta.districts) { var d = meta.districts.of[areas.row(i)]; return d >= 0 ? meta.districts.names[d] : ''; }
      return meta.level === 'district' ? areas.name(i) : '';
    }
    function redraw() {
      var marks = [];
      for (var m = 0; m < members.length; m++) { marks.push([members[m], MARKS.district]); }
      if (found >= 0) { marks.push([found, MARKS.found]); }
      if (hover >= 0 && hover !== found) { marks.push([hover, MARKS.hover]); }
      areas.mark(marks);
    }
    var ctl = {
      areas: areas,
      hover: function (i) { if (i !== hover) { hover = i; redraw(); hoverName = placeOf(i); named(); } },
      show: function (i) {
        found = i; members = []; foundName = areas.name(i); named();
        var bounds = areas.boundsOf(i);
        fitClear(map, bounds, 20, {maxZoom: 13});
        redraw();
        areas.openTip(i, bounds.getCenter());
        window.atlasFound = areas.code(i); window.atlasFoundLevel = meta.level || 'area'; window.atlasFoundCount = 1;
      },
      // A whole district on an LSOA map: fit its LSOAs, outline each of them.
      showDistrict: function (d) {
        var of = meta.districts.of, bounds = null;
        found = -1; members = [];
        for (var i = 0, n = areas.count(); i < n; i++) {
          if (of[areas.row(i)] === d) {
            members.push(i);
            var b = areas.boundsOf(i);
            bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
          }
        }
        if (!bounds) { return; }
        foundName = meta.districts.names[d]; named();
        fitClear(map, bounds, 20, {maxZoom: 13});
        redraw();
        window.atlasFound = norm(meta.districts.codes[d]).toUpperCase();
        window.atlasFoundLevel = 'district'; window.atlasFoundCount = members.length;
      },
      land: function (hit) { if (gone) { return; } if (hit.district !== undefined) { ctl.showDistrict(hit.district); } else { ctl.show(hit.area); } },
      select: function (i) { found = i; redraw(); window.atlasClicked = areas.code(i); },  // a click on an area
      find: function (query) { return find(areas, query); }
    };
    if (!areas.row) { areas.row = function (i) { return i; }; }
    if (meta.large) { L.DomUtil.addClass(map.getContainer(), 'atlas-large'); }  // presenter mode: text >= 20 px
    outlines(map, meta, kind);
    if (full) {  // bare: the areas and outlines only (a comparison's small maps share one legend on the page)
      title = titleControl(map, meta);
      legend = legendControl(map, meta);
      searchControl(map, areas, ctl, meta);
    }
    named();
    var valueGroup = valueLabels(map, meta.labels);
    var names = districtLabels(map, meta), tidying = false;
    var tidy = function () { if (gone) { return; } if (names) { names(); } declutter(map); };
    if (names || valueGroup) {
      map.on('zoomend moveend resize', tidy); tidying = true;
      tidy();
    } else { window.atlasPlaceLabels = 0; }
    var focused = meta.focus;
    // The live map (ui/atlas_map): a new measure, scheme or palette on the areas already drawn. `style` holds
    // the classes, colours, legend, title, tooltip fields and values, value labels and focus (map_parts).
    ctl.update = function (style) {
      if (gone) { return; }
      for (var key in style) { if (Object.prototype.hasOwnProperty.call(style, key)) { meta[key] = style[key]; } }
      areas.restyle(style);
      if (full) {
        if (!title.text && (meta.title || meta.place)) { title = titleControl(map, meta); }
        if (title.text) { title.text(meta); }
        if (legend) { legend.set(meta); }
      }
      named();
      if (valueGroup) { map.removeLayer(valueGroup); valueGroup = null; window.atlasLabels = null; }
      valueGroup = valueLabels(map, meta.labels);
      if (valueGroup && !tidying) { map.on('zoomend moveend resize', tidy); tidying = true; }
      if (tidying) { tidy(); }
      redraw();
      if (style.focus !== focused) {
        focused = style.focus;
        if (focused) { areas.ready(function () { var hit = findHit(areas, norm(focused), meta.districts); if (hit) { ctl.land(hit); } }); }
      }
      window.atlasStyled = (window.atlasStyled || 0) + 1;
    };
    map.attributionControl.addAttribution(meta.attribution);
    if (legend) { legend.fit(); }
    if (legend && map._atlasHome) { fitClear(map, map._atlasHome, 8, {animate: false}); }  // clear of the legend
    // The map follows its frame: page CSS may resize the iframe (or its container) after the map is drawn.
    // While nobody has moved it, the map keeps showing what it opened on as its frame grows (presenter mode and
    // the page's fit size the frame after the first paint): the opening view is fitted again into the new size.
    var home = map._loaded ? {z: map.getZoom(), c: map.getCenter(), b: map.getBounds()} : null;
    var resized = function () {
      if (gone || !map._loaded) { return; }
      var atHome = home && map.getZoom() === home.z && map.getCenter().distanceTo(home.c) < 1;
      map.invalidateSize({pan: false});
      if (atHome) {
        if (map._atlasHome) { fitClear(map, map._atlasHome, 8, {animate: false}); }
        else { map.fitBounds(home.b, {padding: [0, 0], animate: false}); }
        home = {z: map.getZoom(), c: map.getCenter(), b: home.b};
      }
    };
    window.addEventListener('resize', resized);
    var observer = window.ResizeObserver ? new ResizeObserver(resized) : null;
    if (observer) { observer.observe(map.getContainer()); }
    ctl.dispose = function () {  // the live map rebuilt for another layer: this one goes, with its listeners
      gone = true;
      window.removeEventListener('resize', resized);
      if (observer) { observer.disconnect(); }
      map.remove();
      // Leaflet's remove() leaves two things behind: the map's own listeners (tidy, restyle, fit…) and the
      // 'moveend' a resize schedules 200 ms on (invalidateSize's debounce). That moveend, fired on the removed
      // map, ran tidy, which added the district names to panes that no longer exist (an uncaught TypeError
      // seen when leaving presenter mode: the frame shrinks, and the map is rebuilt for the other base).
      clearTimeout(map._sizeTimer);
      map.off();
    };
    window.atlasMap = ctl;
    if (meta.focus) {  // MapSpec.focus: open on this area or district, outlined
      areas.ready(function () { var hit = findHit(areas, norm(meta.focus), meta.districts); if (hit) { ctl.land(hit); } });
    }
    window.atlasReady = true;
    return ctl;
  }

  // Small layers: one SVG path per area, from GeoJSON in the page.
  function svg(map, meta, data) {
    var items = [], marked = [], ctl = null;
    function styleOf(f) {
      var k = f.properties.k;
      if (k < 0) { return {fillColor: meta.noData, fillOpacity: 0.85, color: '#666', weight: 0.8, dashArray: '3 3'}; }
      return {fillColor: meta.colours[k], fillOpacity: 0.85, color: '#333', weight: meta.weight};
    }
    var layer = L.geoJSON(data, {
      style: styleOf,
      onEachFeature: function (f, l) {
        var i = items.length, p = f.properties;
        items.push(l);
        l.bindTooltip(tip(p.n, p.c, meta.fields, p.t, meta.kinds), {sticky: true});
        l.on('mouseover', function () { if (ctl) { ctl.hover(i); } });
        l.on('mouseout', function () { if (ctl) { ctl.hover(-1); } });
        l.on('click', function () { if (ctl) { ctl.select(i); } });
      }
    }).addTo(map);
    window.atlasLayer = layer;
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8], animate: false}); map._atlasHome = bounds; }
    ctl = attach(map, meta, {
      ready: function (fn) { fn(); },
      count: function () { return items.length; },
      code: function (i) { return items[i].feature.properties.c; },
      name: function (i) { return items[i].feature.properties.n; },
      row: function (i) { var r = items[i].feature.properties.r; return r === undefined ? i : r; },
      boundsOf: function (i) { return items[i].getBounds(); },
      mark: function (marks) {
        for (var m = 0; m < marked.length; m++) { layer.resetStyle(marked[m]); }
        marked = [];
        for (m = 0; m < marks.length; m++) {
          var l = items[marks[m][0]];
          l.setStyle(marks[m][1]); l.bringToFront(); marked.push(l);
        }
      },
      openTip: function (i, at) { items[i].openTooltip(at); },
      restyle: function (style) {  // the live map: new classes and tooltip values on the same paths
        for (var i = 0; i < items.length; i++) {
          var l = items[i], p = l.feature.properties, r = p.r === undefined ? i : p.r;
          p.k = classAt(style.classes, r);
          if (style.tips) { p.t = style.tips[r] || []; }
          l.setStyle(styleOf(l.feature));
          l.setTooltipContent(tip(p.n, p.c, meta.fields, p.t, meta.kinds));
        }
        marked = [];
      }
    }, 'svg');
    return ctl;
  }

  // Big layers: the canvas coverage layer (atlas-coverage.js) draws; this module does the rest.
  function canvas(map, meta, payload) {
    var b = meta.bounds;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {padding: [8, 8], animate: false});
    map._atlasHome = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
    var layer = new L.AtlasCoverage(payload);
    layer.addTo(map);
    window.atlasLayer = layer;
    var ctl = attach(map, meta, {
      ready: function (fn) { layer.ready.then(fn); },
      count: function () { return layer.count(); },
      code: function (i) { return layer.code(i); },
      name: function (i) { return layer.name(i); },
      boundsOf: function (i) { return layer.boundsOf(i); },
      mark: function (marks) { layer.mark(marks); },
      openTip: function (i, at) { layer.openTip(i, at); },
      restyle: function (style) {
        layer.restyle({classes: style.classes, colours: style.colours, fields: style.fields, kinds: style.kinds,
                       values: style.values, label: style.legendText});
      }
    }, 'canvas');
    layer.onHover = ctl.hover;
    layer.onClick = ctl.select;
    return ctl;
  }

  // Compared areas' small maps at one scale: centre on this area at the zoom that fits the largest of
  // them, and keep the maps (frames of one page) in step when one is zoomed or panned.
  function keepScale(map, view) {
    function place() {
      var size = map.getSize();
      if (!size.x || !size.y) { return; }  // a frame not laid out yet (presenter mode's step change): no scale
      var largest = L.latLngBounds(view.largest), own = L.latLngBounds(view.own);
      var zoom = map.getBoundsZoom(largest, false, L.point(16, 16));
      if (!isFinite(zoom)) { return; }
      map.setView(own.getCenter(), zoom, {animate: false});
      window.atlasCommonZoom = zoom;
    }
    place();
    map.on('resize', place);
    var home = L.latLngBounds(view.own).getCenter();
    window.atlasStep = function (zoom, dx, dy) {
      if (!isFinite(zoom) || !isFinite(dx) || !isFinite(dy) || !map.getSize().x) { return; }
      window.atlasStepping = true;
      try { map.setView(map.unproject(map.project(home, zoom).add([dx, dy]), zoom), zoom, {animate: false}); }
      finally { window.atlasStepping = false; }
    };
    map.on('moveend', function () {
      if (window.atlasStepping) { return; }
      var z = map.getZoom(), d = map.project(map.getCenter(), z).subtract(map.project(home, z)), frames = [];
      try { frames = window.parent.document.querySelectorAll('iframe'); } catch (e) { return; }
      for (var i = 0; i < frames.length; i++) {
        var w = null;
        try { w = frames[i].contentWindow; } catch (e) { continue; }
        if (w && w !== window && typeof w.atlasStep === 'function') { try { w.atlasStep(z, d.x, d.y); } catch (e) {} }
      }
    });
  }

  function classAt(classes, r) { var c = classes.charCodeAt(r) - 48; return c >= 0 ? c : -1; }  // '-': no data

  // The live map (ui/atlas_map, geo.present.mapping.map_parts): the map folium's page would build, drawn in
  // `el` from a base (geometry or its URLs, outlines, districts) and a style; ctl.update(style) restyles it
  // in place (the frame, the view and the zoom are kept). Returns the controller, with .map.
  function live(el, base, style) {
    var b = base.bounds, meta = {}, key;
    for (key in base) { if (key !== 'geojson' && key !== 'details') { meta[key] = base[key]; } }
    for (key in style) { meta[key] = style[key]; }
    var map = L.map(el, {center: [(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], zoom: 7, zoomSnap: 0.25,
                         fadeAnimation: false, zoomControl: true});
    L.control.scale().addTo(map);
    if (base.basemap) {
      L.tileLayer(base.basemap, {attribution: '&copy; OpenStreetMap contributors', opacity: 0.6, maxZoom: 19}).addTo(map);
    }
    var ctl;
    if (base.kind === 'canvas') {
      ctl = canvas(map, meta, {classes: style.classes, colours: style.colours, noData: base.noData,
                               opacity: base.opacity, fields: style.fields, kinds: style.kinds,
                               weight: base.outlineWeight, outlineZoom: base.outlineZoom, label: style.legendText,
                               details: base.details, values: style.values});
    } else {
      var features = base.geojson.features;
      for (var i = 0; i < features.length; i++) {
        var p = features[i].properties;
        p.k = classAt(style.classes, p.r); p.t = (style.tips && style.tips[p.r]) || [];
      }
      ctl = svg(map, meta, base.geojson);
    }
    ctl.map = map;
    return ctl;
  }

  window.AtlasMap = {fmt: fmt, tip: tip, find: find, findHit: findHit, attach: attach, svg: svg, canvas: canvas, keepScale: keepScale,
                     live: live, MARKS: MARKS};
})();
