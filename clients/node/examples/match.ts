// A typed Match against a running matcher: three requests, two volunteers.
//
//   npm run build && npm run example -- 127.0.0.1:50051          (a summary)
//   node dist/examples/match.js 127.0.0.1:50051 --json           (the MatchResponse as JSON)
//
// Taking requests in order (greedy) would send A to X (0.9 km) and then B to Y (2.5 km):
// 3.4 km in all. The optimum sends A to Y (1.1 km) and B to X (0.5 km): 1.6 km. Nobody holds
// calligraphy, so C stays unserved with REASON_NO_SKILL.
import { pathToFileURL } from "node:url";

import {
  MatchResponseSchema,
  MatcherCallError,
  MatcherClient,
  Unassigned_Reason,
  Urgency,
  timestampFromDate,
  toJsonString,
  type MatchRequestInit,
} from "../src/index.js";

const KM_PER_DEGREE_OF_LATITUDE = 111.195;
const DAY = Date.UTC(2030, 0, 7); // a Monday, so the windows are in the future

/** A point `km` north of the Gonghe County centre. */
const north = (km: number) => ({ lat: 36.27 + km / KM_PER_DEGREE_OF_LATITUDE, lon: 100.62 });

/** The hours [fromHour, toHour) of the example's day. */
const hours = (fromHour: number, toHour: number) => ({
  start: timestampFromDate(new Date(DAY + fromHour * 3_600_000)),
  end: timestampFromDate(new Date(DAY + toHour * 3_600_000)),
});

/** The batch: greedy travels 3.4 km, the optimum 1.6 km. */
export function exampleBatch(): MatchRequestInit {
  const care = ["elderly_care"];
  const routine = Urgency.ROUTINE;
  return {
    requests: [
      { id: "A", requiredSkills: care, location: north(0.9), window: hours(9, 10), urgency: routine },
      { id: "B", requiredSkills: care, location: north(-0.5), window: hours(9, 10), urgency: routine },
      { id: "C", requiredSkills: ["calligraphy"], location: north(0), window: hours(9, 10), urgency: Urgency.URGENT },
    ],
    volunteers: [
      { id: "X", skills: [{ code: "elderly_care", level: 3 }], home: north(0), availability: [hours(8, 12)] },
      { id: "Y", skills: [{ code: "elderly_care", level: 3 }], home: north(2), availability: [hours(8, 12)] },
    ],
    // Distance only, so the answer is the shortest total travel.
    policy: { distanceWeight: 1, skillWeight: 0, ratingWeight: 0, fairnessWeight: 0 },
  };
}

async function main(target: string, json: boolean): Promise<void> {
  const client = await MatcherClient.connect(target, { connectTimeoutMs: 5_000 });
  try {
    const reply = await client.match(exampleBatch());
    if (json) {
      console.log(toJsonString(MatchResponseSchema, reply, { useProtoFieldName: true }));
      return;
    }
    for (const pair of reply.assignments) {
      console.log(`${pair.requestId} <- ${pair.volunteerId}  ${pair.distanceKm.toFixed(2)} km`);
    }
    for (const left of reply.unassigned) {
      console.log(`${left.requestId} unserved: ${Unassigned_Reason[left.reason]} (${left.detail})`);
    }
    console.log(`total travel ${reply.stats?.totalDistanceKm.toFixed(2)} km`);
  } finally {
    client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const target = args.find((arg) => !arg.startsWith("--")) ?? "127.0.0.1:50051";
  main(target, args.includes("--json")).catch((error: unknown) => {
    const failure = MatcherCallError.from(error);
    console.error(`Match failed: ${failure.codeName}: ${failure.message}`);
    for (const { field, description } of failure.fieldViolations) console.error(`  ${field}: ${description}`);
    process.exitCode = 1;
  });
}
