import { expect, it } from "vitest";
import { registryAuthOf } from "@tandem/config";

it("gives the registry's basic-auth credentials only when configured", () => {
  expect(registryAuthOf({ url: "http://r" })).toBeUndefined();
  expect(registryAuthOf({ url: "http://r", username: "u", password: "p" })).toEqual({
    username: "u",
    password: "p",
  });
  expect(registryAuthOf({ url: "http://r", username: "u" })).toEqual({ username: "u", password: "" });
});
