// One HTTPS request of the soak, as a client sees it: it resolves (never rejects) with the
// status, the request id verigate answered with, and how the exchange ended.
import { request } from "node:https";

const EXCHANGE_TIMEOUT_MS = 8_000;

function codeOf(error) {
  return error?.code ?? error?.message ?? String(error);
}

/**
 * One HTTPS exchange. Resolves (never rejects) with { outcome, status, requestId }: outcome is
 * the status code, followed by `body-error:CODE` or `client-abort` if the body did not complete,
 * or `error:CODE`, `client-abort` or `timeout` when no response came.
 * `abort`: { afterMs } destroys the request then; { afterFirstByte } once the body starts;
 * `declaredLength` announces a longer body than is sent (the request never completes).
 */
export function exchange({ port, ca, identity, agent, kind, method = "GET", path, body, abort }) {
  return new Promise((resolve) => {
    let status;
    let requestId;
    let done = false;
    const timers = [];
    const finish = (suffix) => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      const outcome =
        status === undefined ? suffix : suffix === "" ? String(status) : `${status} ${suffix}`;
      resolve({ outcome, status, requestId });
    };
    const headers = { host: "localhost", "x-soak-kind": kind };
    if (body !== undefined)
      headers["content-length"] = String(abort?.declaredLength ?? body.length);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca,
        ...identity,
        agent,
        method,
        path,
        headers,
      },
      (res) => {
        status = res.statusCode;
        requestId = res.headers["x-request-id"];
        if (abort?.afterFirstByte === true) {
          res.once("data", () => {
            finish("client-abort");
            req.destroy();
          });
        } else {
          res.resume();
        }
        res.on("end", () => finish(""));
        res.on("error", (error) => finish(`body-error:${codeOf(error)}`));
        res.on("close", () => finish(res.complete ? "" : "body-error:closed"));
      },
    );
    req.on("error", (error) =>
      finish(status === undefined ? `error:${codeOf(error)}` : `body-error:${codeOf(error)}`),
    );
    timers.push(
      setTimeout(() => {
        finish("timeout");
        req.destroy();
      }, EXCHANGE_TIMEOUT_MS),
    );
    if (abort?.afterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          finish("client-abort");
          req.destroy();
        }, abort.afterMs),
      );
    }
    if (body !== undefined && body.length > 0) req.write(body);
    if (abort?.declaredLength === undefined) req.end();
  });
}
