/* Link chart on the person profile: cytoscape (vendored), data from the page's JSON block. */
(function () {
  function draw() {
    var el = document.getElementById("network");
    var src = document.getElementById("network-data");
    if (!el || !src || typeof cytoscape === "undefined") return;
    var data = JSON.parse(src.textContent);
    var elements = [];
    data.nodes.forEach(function (n) {
      elements.push({ data: { id: n.id, label: n.label, centre: n.centre ? 1 : 0, roles: (n.roles || []).join(", ") } });
    });
    data.edges.forEach(function (e, i) {
      elements.push({ data: { id: "e" + i, source: e.source, target: e.target, label: e.role + " (" + e.events + ")", w: e.events } });
    });
    var cy = cytoscape({
      container: el,
      maxZoom: 2,
      minZoom: 0.2,
      elements: elements,
      layout: { name: "cose", animate: false, randomize: false, padding: 60, idealEdgeLength: function () { return 160; }, nodeRepulsion: function () { return 400000; } },
      style: [
        { selector: "node", style: { "background-color": "#5b7fa6", label: "data(label)", "font-size": 10, color: "#1b1f24", "text-valign": "bottom", "text-margin-y": 4, width: 18, height: 18 } },
        { selector: "node[centre = 1]", style: { "background-color": "#8a1c1c", width: 28, height: 28, "font-weight": "bold" } },
        { selector: "edge", style: { width: "mapData(w, 1, 10, 1, 6)", "line-color": "#9aa5b1", label: "data(label)", "font-size": 8, color: "#5a6472", "curve-style": "bezier" } }
      ]
    });
    cy.on("tap", "node", function (evt) {
      var id = evt.target.id();
      if (evt.target.data("centre") !== 1) window.location.href = "/persons/" + encodeURIComponent(id);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
