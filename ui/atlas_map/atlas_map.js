/* Neighbourhood Renewal Atlas: the live map's frame, a Streamlit component without a build step.
 *
 * Streamlit's component protocol, by postMessage: say `streamlit:componentReady` (apiVersion 1), receive
 * `streamlit:render` with the args on every script run, ask for a height with `streamlit:setFrameHeight`.
 * args: {base: URL of the map's base (geo.present.mapping.map_parts, a content-named file in the store),
 *        style: the classes, colours, legend, title, tooltip fields and values, labels and focus, height;
 *        classes + areas: the style's classes packed as bytes, when they are sent apart (see unpack),
 *        prefetch: URLs of geometry to fetch at once, before the base has come and the map is built}.
 * The map is built once per base (AtlasMap.live, atlas-map.js); a run with the same base only restyles it
 * (ctl.update), so the frame, the view and the zoom stay. Nothing is sent back: panning never reruns the app.
 */
(function () {
  'use strict';
  var current = null, building = false, wanted = null, shownStyle = null, height = 0;

  function send(type, data) {
    var message = {isStreamlitMessage: true, type: type};
    for (var key in data || {}) { message[key] = data[key]; }
    window.parent.postMessage(message, '*');
  }

  // The classes as ui/atlas_map/__init__.py packs them, two areas to a byte (0: no data, k + 1: class k), back
  // to the style's string of one character per area ('-': no data, '0' + k).
  function unpack(bytes, n) {
    var chars = [], out = '', i;
    for (i = 0; i < n; i++) {
      var v = (i & 1) ? bytes[i >> 1] & 15 : bytes[i >> 1] >> 4;
      chars.push(v === 0 ? 45 : 47 + v);
      if (chars.length === 8192) { out += String.fromCharCode.apply(null, chars); chars = []; }
    }
    return out + String.fromCharCode.apply(null, chars);
  }

  function fail(err) {
    window.atlasError = String(err);
    var box = document.getElementById('map');
    box.innerHTML = '<div class="atlas-frame-error"></div>';
    box.firstChild.textContent = 'The map could not be drawn (' + String(err) + '). Reload the page.';
  }

  function build(args) {
    building = true;
    window.atlasReady = false;  // another layer: the test hooks describe the new map once it is drawn
    if (current) { window.atlasLayer = null; window.atlasPainted = 0; }
    fetch(args.base, {cache: 'force-cache', credentials: 'same-origin'}).then(function (resp) {
      if (!resp.ok) { throw new Error(args.base + ': ' + resp.status); }
      return resp.json();
    }).then(function (base) {
      if (current) { current.ctl.dispose(); current = null; }
      var old = document.getElementById('map'), el = document.createElement('div');
      el.id = 'map'; el.className = 'folium-map';
      old.parentNode.replaceChild(el, old);
      current = {base: args.base, ctl: AtlasMap.live(el, base, args.style)};
      shownStyle = JSON.stringify(args.style);
      window.atlasBuilt = (window.atlasBuilt || 0) + 1;
    }).catch(fail).then(function () {
      building = false;
      if (wanted && wanted !== args) { apply(wanted); }
    });
  }

  function apply(args) {
    wanted = args;
    if (building) { return; }  // the build in flight applies the newest args when it is done
    if (!current || current.base !== args.base) { build(args); return; }
    var style = JSON.stringify(args.style);
    if (style !== shownStyle) {
      shownStyle = style;
      current.ctl.update(args.style);
    }
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (event.source !== window.parent) { return; }  // only the app's page renders this frame
    if (!data || data.type !== 'streamlit:render' || !data.args) { return; }
    window.atlasRenderAt = performance.now();  // for bench/national.py: when this run's args arrived
    var want = data.args.height || 640;
    if (want !== height) { height = want; send('streamlit:setFrameHeight', {height: want}); }
    if (data.args.classes && data.args.style && data.args.style.classes === undefined) {
      data.args.style.classes = unpack(data.args.classes, data.args.areas);
    }
    if (data.args.prefetch && L.AtlasCoverage && L.AtlasCoverage.prefetch) {
      data.args.prefetch.forEach(L.AtlasCoverage.prefetch);
    }
    apply(data.args);
  });
  send('streamlit:componentReady', {apiVersion: 1});
})();
