import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "cdktf.out/", ".gen/", "coverage/", ".tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: {
      parserOptions: {
        // Each file is checked with the types of the nearest tsconfig.json (root, client/, test/browser/).
        projectService: {
          // The root tsconfig.json leaves it to test/browser/tsconfig.json (it needs the DOM), which is not the
          // nearest one.
          allowDefaultProject: ["local/screenshot.ts"],
          defaultProject: "test/browser/tsconfig.json",
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ["**/*.{js,mjs,cjs}"],
    languageOptions: {
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
        URL: "readonly",
      },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always"],
      "no-console": "error",
    },
  },
  {
    // Command-line tools talk to a terminal; the service and the client log through their own channels.
    files: ["local/**", "bench/**", "scripts/**", "test/**", "**/*.mjs"],
    rules: { "no-console": "off" },
  },
);
