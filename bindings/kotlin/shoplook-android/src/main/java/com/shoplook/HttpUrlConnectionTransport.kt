// The catalogue client's HTTP transport on Android (and any JVM): the platform's own
// HttpURLConnection, so the app's network security config (trusted CAs, including
// user-installed ones where the app allows them, certificate pinning, cleartext policy), the
// system proxy and the platform's TLS apply. The phone library has no HTTP client of its own:
//
//     val catalogue = CatalogueClient(baseUrl, apiKey, HttpUrlConnectionTransport())
//
// Apps that already use OkHttp or Ktor implement `HttpTransport` over it the same way (~30 lines).
// `send` runs on one of the library's worker threads (the Async calls) or on the caller's
// thread (the blocking ones); it blocks until the answer is there.

package com.shoplook

import java.io.IOException
import java.net.HttpURLConnection
import java.net.URL

class HttpUrlConnectionTransport : HttpTransport {
    override fun send(request: HttpRequest): HttpResponse {
        val connection = try {
            URL(request.url).openConnection() as HttpURLConnection
        } catch (e: IOException) {
            throw ShopLookException.Offline("${e.javaClass.simpleName}: ${e.message}")
        }
        try {
            val timeout = request.timeoutMs.toLong().coerceIn(1L, Int.MAX_VALUE.toLong()).toInt()
            connection.connectTimeout = timeout
            connection.readTimeout = timeout
            connection.requestMethod = request.method
            connection.useCaches = false
            for (h in request.headers) connection.setRequestProperty(h.name, h.value)
            if (request.body.isNotEmpty()) {
                connection.doOutput = true
                connection.setFixedLengthStreamingMode(request.body.size)
                connection.outputStream.use { it.write(request.body) }
            }
            val status = connection.responseCode
            // 4xx/5xx bodies come from errorStream; either may be null for an empty body.
            val stream = if (status >= 400) connection.errorStream else connection.inputStream
            val body = stream?.use { it.readBytes() } ?: ByteArray(0)
            val headers = connection.headerFields
                .filterKeys { it != null } // the status line comes under a null key
                .flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
            return HttpResponse(status.toUShort(), headers, body)
        } catch (e: IOException) {
            throw ShopLookException.Offline("${e.javaClass.simpleName}: ${e.message}")
        } finally {
            connection.disconnect()
        }
    }
}
