// Build step: the country outline for the public map, from Natural Earth (public domain) via the
// npm package world-atlas, converted from TopoJSON to GeoJSON with topojson-client.
// Usage: node scripts/build_outline.mjs <ISO 3166-1 numeric country id> <output.geojson>
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { feature } from "topojson-client";

const [countryId = "760", output = "static/vendor/outline.geojson"] = process.argv.slice(2);
const topology = JSON.parse(readFileSync("node_modules/world-atlas/countries-10m.json", "utf8"));
const countries = feature(topology, topology.objects.countries);
const country = countries.features.find((f) => String(f.id) === String(countryId));
if (!country) {
  console.error(`country ${countryId} is not in world-atlas`);
  process.exit(1);
}
const round = (ring) => ring.map(([lon, lat]) => [Math.round(lon * 1e4) / 1e4, Math.round(lat * 1e4) / 1e4]);
const geometry = country.geometry.type === "Polygon"
  ? { type: "Polygon", coordinates: country.geometry.coordinates.map(round) }
  : { type: "MultiPolygon", coordinates: country.geometry.coordinates.map((poly) => poly.map(round)) };
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, JSON.stringify({
  type: "Feature",
  id: country.id,
  properties: { name: country.properties.name, source: "Natural Earth 1:10m via world-atlas 2.0.2 (public domain)" },
  geometry,
}));
console.log(`wrote ${output}: ${country.properties.name}`);
