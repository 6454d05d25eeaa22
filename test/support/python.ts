import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "../..");

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed: ${result.error?.message ?? result.stderr.trim()}`);
  }
}

/**
 * The Python interpreter of a virtualenv holding `requirements` (a file in the repository), installed
 * from PyPI on first use and again whenever the file changes, so a fresh machine needs only python3
 * with venv (scripts/bootstrap.sh installs it).
 */
export function pythonWith(requirements: string): string {
  const file = path.join(REPO, requirements);
  const wanted = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  const venv = path.join(REPO, ".tandem/venvs", path.dirname(requirements).replaceAll("/", "-"));
  const stamp = path.join(venv, "requirements.sha256");
  const python = path.join(venv, "bin/python");
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === wanted) return python;
  run("python3", ["-m", "venv", "--clear", venv]);
  run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", file]);
  fs.writeFileSync(stamp, wanted);
  return python;
}
