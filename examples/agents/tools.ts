/**
 * A travel assistant's tools, simulated with realistic latencies (no network, no API key), for
 * the agent examples beside them.
 */
import { fakeTool } from "volley/testing";
import { z } from "zod";

const temperatures: Record<string, number> = { oslo: 4, rome: 17, lima: 19 };

export const weather = fakeTool({
  name: "weather",
  description: "Today's weather in a city",
  input: z.object({ city: z.string() }),
  concurrency: 2, // the weather API allows two requests at once
  latencyMs: 600,
  idempotent: true,
  output: (args) => ({ city: args.city, celsius: temperatures[String(args.city).toLowerCase()] ?? 12 }),
});

export const flights = fakeTool({
  name: "flights",
  description: "Flights from one city to another today",
  input: z.object({ from: z.string(), to: z.string() }),
  concurrency: 2, // the booking API allows two searches at once
  latencyMs: 900,
  output: (args) => [{ from: args.from, to: args.to, departs: "17:40", priceEur: 129 }],
});
