// The Data page's map: villages, sites and roads from /data/layers.json, no base tiles (offline).
(function () {
  var el = document.getElementById("datamap");
  if (!el || !window.L) return;
  var map = L.map(el, { preferCanvas: true });
  var roadColour = { national: "#c0392b", provincial: "#e67e22", commune: "#7f8c8d", track: "#b0a48a" };
  fetch("/data/layers.json", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (layers) {
      var groups = [];
      if (layers.roads) {
        groups.push(L.geoJSON(layers.roads, {
          style: function (f) { return { color: roadColour[f.properties.road_class] || "#666", weight: 2 }; }
        }));
      }
      if (layers.villages) {
        groups.push(L.geoJSON(layers.villages, {
          pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5, color: "#0b5cad", fillOpacity: 0.8 }); },
          onEachFeature: function (f, layer) {
            var p = f.properties, span = document.createElement("span");
            span.textContent = (p.name || p.id) + " · " + (p.commune || "") + " · " + (p.population || "");
            layer.bindTooltip(span);
          }
        }));
      }
      if (layers.sites) {
        groups.push(L.geoJSON(layers.sites, {
          pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 6, color: "#b00020", fillOpacity: 0.9 }); },
          onEachFeature: function (f, layer) {
            var span = document.createElement("span");
            span.textContent = (f.properties.name || f.properties.id) + " (" + (f.properties.kind || "") + ")";
            layer.bindTooltip(span);
          }
        }));
      }
      var all = L.featureGroup(groups).addTo(map);
      if (all.getBounds().isValid()) map.fitBounds(all.getBounds(), { padding: [10, 10] });
      else map.setView([22.4, 102.6], 9);
      ["villages", "sites", "roads"].forEach(function (k) {
        el.setAttribute("data-" + k, layers[k] ? layers[k].features.length : 0);
      });
      el.setAttribute("data-ready", "1");
    });
})();
