import { Hono } from "hono";
import { auth } from "./auth";

const app = new Hono();
app.on(["GET", "POST"], "/api/auth/*", (c) => auth(c.env).handler(c.req.raw));
export default app;
