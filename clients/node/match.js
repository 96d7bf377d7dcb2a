// A Match client written only from protos/: no generated Python, no shared code.
// Usage: node match.js HOST:PORT  -> prints the MatchResponse as JSON on stdout.
"use strict";
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const PROTOS = path.resolve(__dirname, "..", "..", "protos");
const definition = protoLoader.loadSync("matcher/v1/match.proto", {
  includeDirs: [PROTOS],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const matcher = grpc.loadPackageDefinition(definition).matcher.v1;

const KM = 1 / 111.195; // degrees of latitude per km
const at = (km) => ({ lat: 36.27 + km * KM, lon: 100.62 });
const window = (h0, h1) => ({
  start: { seconds: 1700000000 + h0 * 3600, nanos: 0 },
  end: { seconds: 1700000000 + h1 * 3600, nanos: 0 },
});

// Greedy in order would send A to X (0.9 km) and then B to Y (2.5 km): 3.4 km in all.
// The optimum sends A to Y (1.1 km) and B to X (0.5 km): 1.6 km.
const request = {
  requests: [
    { id: "A", required_skills: ["elderly_care"], location: at(0.9), window: window(9, 10), urgency: "URGENCY_ROUTINE" },
    { id: "B", required_skills: ["elderly_care"], location: at(-0.5), window: window(9, 10), urgency: "URGENCY_ROUTINE" },
    { id: "C", required_skills: ["calligraphy"], location: at(0), window: window(9, 10), urgency: "URGENCY_URGENT" },
  ],
  volunteers: [
    { id: "X", skills: [{ code: "elderly_care", level: 3 }], home: at(0), availability: [window(8, 12)] },
    { id: "Y", skills: [{ code: "elderly_care", level: 3 }], home: at(2), availability: [window(8, 12)] },
  ],
  policy: { distance_weight: 1, skill_weight: 0, rating_weight: 0, fairness_weight: 0 },
};

const target = process.argv[2] || "127.0.0.1:50051";
const client = new matcher.MatchService(target, grpc.credentials.createInsecure());
client.Match(request, { deadline: Date.now() + 10000 }, (err, response) => {
  if (err) {
    console.error(`Match failed: ${err.code} ${err.details}`);
    process.exit(1);
  }
  console.log(JSON.stringify(response));
  client.close();
});
