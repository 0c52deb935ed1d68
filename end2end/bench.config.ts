import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Measurements, not tests: run by scripts/bench-employee-path against a release build.
export default defineConfig({
  ...base,
  testDir: "./bench",
  timeout: 180_000,
  reporter: [["line"]],
  outputDir: "test-results/bench",
});
