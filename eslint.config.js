import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", ".tools/", ".tandem/", "coverage/", "**/.tsbuild/"] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  // The console's pages run in the browser.
  { files: ["services/console/public/**"], languageOptions: { globals: { ...globals.browser } } },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Core folders hold the pure logic, which runs and is tested without servers: no client of Kafka,
    // PostgreSQL or S3, no file or socket. Naming their types is fine (type imports are erased).
    files: ["**/core/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(kafkajs|pg|@aws-sdk/[^/]+|(node:)?(fs|net))(/.*)?$",
              message:
                "core/ holds pure logic: do the I/O in an adapter outside core/ and pass the results in.",
            },
          ],
        },
      ],
    },
  },
);
