// A child process that hosts a JobManager over a given SQLite file, so that a
// test can kill -9 it mid-training and start another one on the same store.
//   job-host.ts <db> <jobs dir> <content dir> create <spec+snapshot json>   creates job 1 and runs it
//   job-host.ts <db> <jobs dir> <content dir> resume                        resumes job 1
// Prints one JSON line per progress point and per state change.
import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { JobManager, type Job } from "../../models/factory/jobs.js";

const [db, dir, contentDir, command, file] = process.argv.slice(2);
const manager = new JobManager(new Database(db), { dir, contentDir });
const terminal = new Set(["done", "failed", "cancelled"]);
manager.on("progress", (id: number, p: { step: number }) => console.log(JSON.stringify({ progress: p.step, id })));
manager.on("update", (job: Job) => {
  console.log(JSON.stringify({ state: job.state, id: job.id, checkpointStep: job.checkpointStep, error: job.error }));
  if (terminal.has(job.state)) {
    console.log(JSON.stringify({ outcome: job.outcome }));
    process.exit(0);
  }
});
if (command === "create") {
  const { spec, snapshot } = JSON.parse(readFileSync(file, "utf8"));
  manager.create(spec, snapshot);
} else {
  manager.resume(1);
}
