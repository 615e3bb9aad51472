#!/usr/bin/env node
// LwM2M 1.0 management server for lwm2m-carrier interop tests (test tier 3).
//
// Built on lwm2m-node-lib (registration interface, device registry, device management and
// observe over node-coap).  Plain CoAP over UDP, loopback only.
//
//   node server.js [--coap-port N] [--http-port M] [--host 127.0.0.1] [--write-format text/plain]
//                  [--lifetime-check-ms 1000] [--log-level FATAL]
//   env: LWM2M_COAP_PORT, LWM2M_HTTP_PORT, LWM2M_HOST, LWM2M_WRITE_FORMAT, LWM2M_LOG_LEVEL
//
// Port 0 means "pick a free port"; the real ports are in the first stdout line:
//   {"event":"listening","coap_port":N,"http_port":M,...}
// Then one JSON line per event on stdout (library logs go to stderr).
// See ../README.md for the HTTP control API.
'use strict';

var http = require('http');
var url = require('url');
var coap = require('coap');
var logger = require('logops');
var lwm2m = require('lwm2m-node-lib').server;
var serverCoapUtils = require('lwm2m-node-lib/lib/services/server/coapUtils');

// ---------------------------------------------------------------------------------------------
// Options

function argOrEnv(flag, env, dflt) {
    var i = process.argv.indexOf(flag);
    if (i >= 0 && i + 1 < process.argv.length) {
        return process.argv[i + 1];
    }
    if (process.env[env] !== undefined && process.env[env] !== '') {
        return process.env[env];
    }
    return dflt;
}

if (process.argv.indexOf('--help') >= 0 || process.argv.indexOf('-h') >= 0) {
    process.stdout.write('usage: node server.js [--coap-port N] [--http-port M] [--host 127.0.0.1]\n' +
        '         [--write-format text/plain] [--lifetime-check-ms 1000] [--log-level FATAL]\n');
    process.exit(0);
}

var HOST = argOrEnv('--host', 'LWM2M_HOST', '127.0.0.1');
var COAP_PORT = parseInt(argOrEnv('--coap-port', 'LWM2M_COAP_PORT', '5683'), 10);
var HTTP_PORT = parseInt(argOrEnv('--http-port', 'LWM2M_HTTP_PORT', '8683'), 10);
var WRITE_FORMAT = argOrEnv('--write-format', 'LWM2M_WRITE_FORMAT', 'text/plain');
var LIFETIME_CHECK_MS = parseInt(argOrEnv('--lifetime-check-ms', 'LWM2M_LIFETIME_CHECK_MS', '1000'), 10);
var LOG_LEVEL = argOrEnv('--log-level', 'LWM2M_LOG_LEVEL', 'FATAL');

// ---------------------------------------------------------------------------------------------
// Content formats (LwM2M 1.0 numbers).  Names are registered with node-coap so that responses
// are decoded and so that requests can use them; numbers are accepted too.

var FORMATS = {
    'text/plain': 0,
    'application/link-format': 40,
    'application/octet-stream': 42,
    'application/json': 50,
    'lightweightm2m/text': 1541,             // pre-1.0 draft number, lwm2m-node-lib's default
    'application/vnd.oma.lwm2m+tlv': 11542,
    'application/vnd.oma.lwm2m+json': 11543
};
var FORMAT_ALIASES = {
    text: 'text/plain', plain: 'text/plain', link: 'application/link-format',
    opaque: 'application/octet-stream', octet: 'application/octet-stream',
    tlv: 'application/vnd.oma.lwm2m+tlv', json: 'application/vnd.oma.lwm2m+json'
};

function formatNumber(f) {
    if (f === undefined || f === null || f === '') {
        return null;
    }
    if (typeof f === 'number') {
        return f;
    }
    if (/^[0-9]+$/.test(String(f))) {
        return parseInt(f, 10);
    }
    var name = FORMAT_ALIASES[f] || f;
    if (FORMATS[name] === undefined) {
        throw new Error('unknown content format ' + f);
    }
    return FORMATS[name];
}

function formatBuffer(n) {
    if (n > 255) {
        var b = Buffer.alloc(2);
        b.writeUInt16BE(n, 0);
        return b;
    }
    return n === 0 ? Buffer.alloc(0) : Buffer.from([n]);
}

function responseFormat(res) {
    var v = res.headers ? res.headers['Content-Format'] : undefined;
    if (v === undefined) {
        return null;
    }
    if (Buffer.isBuffer(v)) {
        var n = 0;
        for (var i = 0; i < v.length; i++) { n = n * 256 + v[i]; }
        return n;
    }
    if (typeof v === 'number') {
        return v;
    }
    return FORMATS[v] !== undefined ? FORMATS[v] : v;
}

// ---------------------------------------------------------------------------------------------
// Event output

var events = [];          // every event, with a sequence number
var notifications = [];   // only notifications
var seq = 0;

function emit(ev) {
    ev = Object.assign({ seq: ++seq, time: new Date().toISOString() }, ev);
    // keep "event" first for readability
    var line = JSON.stringify(Object.assign({ event: ev.event }, ev));
    events.push(ev);
    if (ev.event === 'notification') {
        notifications.push(ev);
    }
    process.stdout.write(line + '\n');
}

// ---------------------------------------------------------------------------------------------
// node-coap hooks:
//  * bind the CoAP socket to HOST (the library always binds the wildcard address);
//  * record each raw request from a device (for query parameters of register/update);
//  * acknowledge confirmable responses/notifications coming back through the internal proxy
//    (node-coap's proxy drops the agent's empty ACK, so a CON notification would otherwise never
//    be acknowledged) and pass them on to the internal agent as non-confirmable.

var coapServer = null;
var lastDeviceRequest = null;
var origCreateServer = coap.createServer;

coap.createServer = function (options, listener) {
    var server = origCreateServer.call(coap, options, listener);
    var origListen = server.listen;
    server.listen = function (port, address, done) {
        if (typeof address === 'function') {
            done = address;
        }
        return origListen.call(server, port, HOST, done);
    };
    server.on('request', function (req) {
        var u = url.parse(req.url);
        lastDeviceRequest = {
            method: req.method, path: u.pathname, query: u.query || '',
            payload: req.payload, address: req.rsinfo.address, port: req.rsinfo.port
        };
        emit({
            event: 'coap_request', method: req.method, path: u.pathname, query: u.query || '',
            payload: req.payload.toString('utf8'), source: req.rsinfo.address + ':' + req.rsinfo.port,
            confirmable: !!(req._packet && req._packet.confirmable)
        });
    });
    // Middleware between proxyRequest and handleProxyResponse: sees responses coming back from
    // devices for proxied requests, with the device's address.
    var mw = server._middlewares;
    var at = mw.indexOf(require('coap/lib/middlewares').handleProxyResponse);
    mw.splice(at, 0, function ackProxiedResponse(request, next) {
        var p = request.packet;
        if (!request.proxy && p && p.code && p.code[0] !== '0' &&
            server._proxiedRequests[p.token.toString('hex')]) {
            var tk = p.token.toString('hex');
            if (cancelledTokens[tk]) {
                // Observation cancelled here: reject the notification (RFC 7641 3.6).
                var rst = require('coap-packet').generate({
                    messageId: p.messageId, reset: true, code: '0.00', token: Buffer.alloc(0)
                });
                server._sock.send(rst, 0, rst.length, request.rsinfo.port, request.rsinfo.address);
                emit({ event: 'notification_rejected', token: tk, code: p.code,
                    source: request.rsinfo.address + ':' + request.rsinfo.port });
                return; // swallow
            }
            if (p.confirmable) {
                var ack = require('coap-packet').generate({
                    messageId: p.messageId, ack: true, code: '0.00', token: Buffer.alloc(0)
                });
                server._sock.send(ack, 0, ack.length, request.rsinfo.port, request.rsinfo.address);
                p.confirmable = false;
            }
        }
        next(null);
    });
    coapServer = server;
    return server;
};
var cancelledTokens = {};

// Per-operation capture of the raw CoAP response (the library only hands back utf8 strings).
// The memory registry is synchronous, so the library reaches sendRequest synchronously from the
// call we make; pendingOp is consumed there.
var pendingOp = null;
var observations = {};   // endpoint + path -> op of the Observe that set it up

serverCoapUtils.sendRequest = function (request, callback) {
    var op = pendingOp;
    pendingOp = null;
    if (op) {
        op.consumed = true;
        request.options = Object.assign({}, request.options || {});
        if (op.accept !== null && op.accept !== undefined) {
            request.options.Accept = formatBuffer(op.accept);
        }
        if (op.contentFormat !== null && op.contentFormat !== undefined) {
            request.options['Content-Format'] = formatBuffer(op.contentFormat);
        }
        if (op.payload !== undefined) {
            request.payload = op.payload;
        }
        if (op.query) {
            request.query = op.query;
        }
    }
    sendRequestImpl(request, op, callback);
};

function hasObserveOption(res) {
    return (res.options || []).some(function (o) { return o.name === 'Observe'; });
}

// Same as lwm2m-node-lib's coapUtils.sendRequest, but keeps the raw response and does not hang
// when a client answers an Observe request without an Observe option (or with an error).
function sendRequestImpl(request, op, callback) {
    var agent = new coap.Agent({ type: serverConfig.serverProtocol });
    var req = agent.request(request);
    var called = false;
    function cb(error, res) {
        if (!called) {
            called = true;
            callback(error, res);
        }
    }
    req.on('response', function (res) {
        if (op) {
            op.code = res.code;
            op.format = responseFormat(res);
            op.raw = res.payload;
        }
        if (request.observe) {
            if (res.append && hasObserveOption(res) && res.code[0] === '2') {
                if (op) {
                    op.token = req._packet.token.toString('hex');
                    hookObserveStream(op, res);
                }
                return cb(null, res);
            }
            if (res.close) {
                res.close();
            }
            return cb(new Error('no observation established (response ' + res.code + ')'), res);
        }
        res.on('data', function () {});
        res.on('end', function () { cb(null, res); });
        res.on('error', function (e) { cb(e); });
    });
    req.on('error', function (error) {
        cb(new Error('CoAP request failed: ' + (error.message || error)));
    });
    if (request.payload !== undefined && request.payload !== null && request.payload !== '') {
        req.write(Buffer.isBuffer(request.payload) ? request.payload : Buffer.from(String(request.payload)));
    }
    req.end();
}

function hookObserveStream(op, stream) {
    var origAppend = stream.append;
    op.stream = stream;
    observations[op.endpoint + ' ' + op.path] = op;
    stream.append = function (packet) {
        var before = stream._lastId;
        origAppend.call(stream, packet);
        emit({
            event: 'notification', endpoint: op.endpoint, path: op.path, code: packet.code,
            observe: stream.headers['Observe'], content_format: responseFormat(stream),
            value: packet.payload.toString('utf8'), payload_hex: packet.payload.toString('hex'),
            accepted: stream._lastId !== before
        });
    };
}

// ---------------------------------------------------------------------------------------------
// LwM2M server

var serverConfig = {
    port: COAP_PORT,
    lifetimeCheckInterval: LIFETIME_CHECK_MS,
    udpWindow: 100,
    defaultType: 'Device',
    logLevel: LOG_LEVEL,
    ipProtocol: 'udp4',
    serverProtocol: 'udp4',
    formats: Object.keys(FORMATS).filter(function (n) {
        return ['text/plain', 'application/link-format', 'application/octet-stream',
            'application/json'].indexOf(n) < 0;
    }).map(function (n) { return { name: n, value: FORMATS[n] }; }),
    writeFormat: FORMAT_ALIASES[WRITE_FORMAT] || WRITE_FORMAT,
    deviceRegistry: { type: 'memory' }
};

logger.setStream(process.stderr);

function location(device) {
    return 'rd/' + device.id;
}

function queryObject(q) {
    var o = {};
    (q || '').split('&').forEach(function (kv) {
        if (kv) {
            var i = kv.indexOf('=');
            o[i < 0 ? kv : kv.substring(0, i)] = i < 0 ? '' : decodeURIComponent(kv.substring(i + 1));
        }
    });
    return o;
}

function registrationHandler(endpoint, lifetime, version, binding, payload, callback) {
    var q = lastDeviceRequest ? queryObject(lastDeviceRequest.query) : {};
    lwm2m.getDevice(endpoint, function (error, device) {
        emit({
            event: 'registered', endpoint: endpoint, location: device ? location(device) : null,
            lifetime: lifetime === undefined ? null : Number(lifetime), version: version || null,
            binding: binding || null, sms: q.sms || null, query: q, links: payload,
            address: device ? device.address + ':' + device.port : null
        });
        callback();
    });
}

function updateHandler(device, payload, callback) {
    var q = lastDeviceRequest ? queryObject(lastDeviceRequest.query) : {};
    emit({
        event: 'updated', endpoint: device.name, location: location(device),
        lifetime: device.lifetime === undefined ? null : Number(device.lifetime),
        binding: q.b || null, query: q, links: payload === '' ? null : payload,
        address: device.address + ':' + device.port
    });
    callback();
}

function unregistrationHandler(device, callback) {
    emit({ event: 'deregistered', endpoint: device.name, location: location(device) });
    callback();
}

function expiryHandler(device, callback) {
    emit({ event: 'expired', endpoint: device.name, location: location(device) });
    callback();
}

// ---------------------------------------------------------------------------------------------
// Operations

function parsePath(p) {
    var parts = String(p || '').split('/').filter(function (s) { return s !== ''; });
    if (parts.length < 1 || parts.length > 3 || !parts.every(function (s) { return /^[0-9]+$/.test(s); })) {
        throw new Error('bad LwM2M path ' + p);
    }
    return parts;
}

function resolveDevice(ep, callback) {
    if (ep) {
        return lwm2m.getDevice(ep, callback);
    }
    lwm2m.listDevices(function (error, list) {
        if (error) {
            return callback(error);
        }
        if (list.length !== 1) {
            return callback(new Error('ep is required (' + list.length + ' devices registered)'));
        }
        callback(null, list[list.length - 1]);
    });
}

// Raw request through the library's proxied transport, for paths the library's helpers do not
// take (object or instance level Read/Write).
function rawRequest(device, method, pathname, callback) {
    serverCoapUtils.sendRequest({
        host: '127.0.0.1', port: serverConfig.port, method: method,
        proxyUri: 'coap://' + device.address + ':' + device.port, pathname: pathname
    }, function (error, res) {
        callback(error, res && res.payload ? res.payload.toString('utf8') : null);
    });
}

function payloadFrom(params) {
    if (params.hex !== undefined) {
        return Buffer.from(params.hex, 'hex');
    }
    if (params.value !== undefined) {
        return Buffer.from(String(params.value), 'utf8');
    }
    return undefined;
}

function runOp(name, params, done) {
    var parts, op, timer, finished = false;

    function finish(error, value) {
        if (finished) {
            return;
        }
        finished = true;
        clearTimeout(timer);
        var out = {
            ok: !error && op.code !== undefined && op.code[0] === '2',
            op: name, endpoint: op.endpoint, path: op.path,
            code: op.code === undefined ? null : op.code,
            content_format: op.format === undefined ? null : op.format,
            value: op.raw ? op.raw.toString('utf8') : (typeof value === 'string' ? value : null),
            payload_hex: op.raw ? op.raw.toString('hex') : null,
            error: error ? (error.message || error.name || String(error)) : null
        };
        emit(Object.assign({ event: 'result' }, out));
        done(out);
    }

    op = { endpoint: params.ep || null, path: params.path || null };
    try {
        parts = parsePath(params.path);
        op.path = '/' + parts.join('/');
        if (params.accept) { op.accept = formatNumber(params.accept); }
        if (params.format) { op.contentFormat = formatNumber(params.format); }
    } catch (e) {
        op.code = undefined;
        return finish(e);
    }
    timer = setTimeout(function () { finish(new Error('timeout')); },
        1000 * parseFloat(params.timeout || '30'));

    resolveDevice(params.ep, function (error, device) {
        if (error) {
            return finish(error);
        }
        op.endpoint = device.name;
        var id = device.id, cb = function (err, value) { finish(err, value); };
        pendingOp = op;
        try {
            switch (name) {
            case 'read':
                if (parts.length === 3) {
                    lwm2m.read(id, parts[0], parts[1], parts[2], cb);
                } else {
                    rawRequest(device, 'GET', op.path, cb);
                }
                break;
            case 'write':
                op.payload = payloadFrom(params);
                if (op.payload === undefined) {
                    throw new Error('write needs value= or hex=');
                }
                if (op.contentFormat === undefined) {
                    op.contentFormat = formatNumber(serverConfig.writeFormat);
                }
                if (parts.length === 3) {
                    lwm2m.write(id, parts[0], parts[1], parts[2], '', cb);
                } else {
                    // instance-level Write (replace) with a TLV payload
                    rawRequest(device, 'PUT', op.path, cb);
                }
                break;
            case 'execute':
                if (parts.length !== 3) {
                    throw new Error('execute needs /obj/inst/res');
                }
                op.payload = payloadFrom({ value: params.args });
                lwm2m.execute(id, parts[0], parts[1], parts[2], '', cb);
                break;
            case 'discover':
                if (parts.length === 3) {
                    lwm2m.discover(id, parts[0], parts[1], parts[2], cb);
                } else if (parts.length === 2) {
                    lwm2m.discover(id, parts[0], parts[1], cb);
                } else {
                    lwm2m.discover(id, parts[0], cb);
                }
                break;
            case 'write-attributes':
                var attrs = {};
                ['pmin', 'pmax', 'gt', 'lt', 'st', 'cancel'].forEach(function (k) {
                    if (params[k] !== undefined) { attrs[k] = params[k]; }
                });
                lwm2m.writeAttributes(id, parts[0], parts[1], parts[2], attrs, cb);
                break;
            case 'observe':
                if (parts.length !== 3) {
                    throw new Error('observe needs /obj/inst/res (lwm2m-node-lib limitation)');
                }
                lwm2m.observe(id, parts[0], parts[1], parts[2], function () {}, cb);
                break;
            case 'cancel-observe':
                if (parts.length !== 3) {
                    throw new Error('cancel-observe needs /obj/inst/res');
                }
                pendingOp = null;
                var obs = observations[device.name + ' ' + op.path];
                if (!obs) {
                    throw new Error('no observation of ' + op.path + ' for ' + device.name);
                }
                delete observations[device.name + ' ' + op.path];
                // Passive cancel (RFC 7641 3.6): the next notification is answered with RST.
                cancelledTokens[obs.token] = true;
                lwm2m.cancelObserver(id, parts[0], parts[1], parts[2], function (err) {
                    op.code = err ? undefined : '2.05';
                    finish(err);
                });
                break;
            default:
                throw new Error('unknown operation ' + name);
            }
        } catch (e) {
            pendingOp = null;
            return finish(e);
        }
        if (pendingOp === op) {
            // The library did not reach the transport synchronously (should not happen with the
            // memory registry); do not let the capture leak into another operation.
            pendingOp = null;
        }
    });
}

// ---------------------------------------------------------------------------------------------
// HTTP control API

function sendJson(res, status, obj) {
    var body = JSON.stringify(obj) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}

var OPS = ['read', 'write', 'execute', 'discover', 'observe', 'cancel-observe', 'write-attributes'];

function handleHttp(req, res) {
    var u = url.parse(req.url, true);
    var body = '';
    req.on('data', function (c) { body += c; });
    req.on('end', function () {
        var params = Object.assign({}, u.query);
        if (body) {
            try {
                Object.assign(params, JSON.parse(body));
            } catch (e) {
                return sendJson(res, 400, { ok: false, error: 'body is not JSON' });
            }
        }
        var name = u.pathname.replace(/^\/+|\/+$/g, '');
        if (name === 'health') {
            return sendJson(res, 200, { ok: true, coap_port: serverConfig.port, http_port: HTTP_PORT });
        }
        if (name === 'devices') {
            return lwm2m.listDevices(function (error, list) {
                sendJson(res, 200, (list || []).map(function (d) {
                    return {
                        endpoint: d.name, location: location(d), lifetime: Number(d.lifetime),
                        address: d.address + ':' + d.port, registered_at: d.creationDate
                    };
                }));
            });
        }
        if (name === 'events' || name === 'notifications') {
            var since = parseInt(params.since || '0', 10);
            var list = (name === 'events' ? events : notifications).filter(function (e) {
                return e.seq > since && (!params.ep || e.endpoint === params.ep) &&
                    (!params.path || e.path === params.path) &&
                    (!params.event || e.event === params.event);
            });
            return sendJson(res, 200, list);
        }
        if (name === 'shutdown') {
            sendJson(res, 200, { ok: true });
            return setTimeout(function () { process.exit(0); }, 50);
        }
        if (OPS.indexOf(name) >= 0) {
            return runOp(name, params, function (out) {
                sendJson(res, 200, out);
            });
        }
        sendJson(res, 404, { ok: false, error: 'unknown endpoint ' + u.pathname });
    });
}

// ---------------------------------------------------------------------------------------------
// Start

lwm2m.start(serverConfig, function (error, serverInfo) {
    if (error) {
        process.stderr.write('lwm2m server failed to start: ' + error + '\n');
        process.exit(2);
    }
    // With port 0 the socket picked a port: the library's own requests go to config.port.
    serverConfig.port = coapServer._sock.address().port;
    lwm2m.setHandler(serverInfo, 'registration', registrationHandler);
    lwm2m.setHandler(serverInfo, 'updateRegistration', updateHandler);
    lwm2m.setHandler(serverInfo, 'unregistration', unregistrationHandler);
    // setHandler('unregistration') restarts the lifetime check with an undefined interval
    // (lwm2m-node-lib bug: a 1 ms timer); restart it with ours and report expiries distinctly.
    lwm2m.getRegistry().checkLifetime(LIFETIME_CHECK_MS, expiryHandler);

    var httpServer = http.createServer(handleHttp);
    httpServer.on('error', function (e) {
        process.stderr.write('control HTTP server failed: ' + e + '\n');
        process.exit(2);
    });
    httpServer.listen(HTTP_PORT, HOST, function () {
        HTTP_PORT = httpServer.address().port;
        emit({
            event: 'listening', coap_port: serverConfig.port, http_port: HTTP_PORT, host: HOST,
            write_format: serverConfig.writeFormat,
            lwm2m_node_lib: require('lwm2m-node-lib/package.json').version,
            coap: require('coap/package.json').version, node: process.version
        });
    });
});

function shutdown() {
    process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
