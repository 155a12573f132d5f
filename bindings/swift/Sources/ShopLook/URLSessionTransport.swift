// The catalogue client's HTTP transport on iOS (and macOS, Linux): URLSession, so the app's
// App Transport Security settings, the system trust store and proxies, certificate pinning in a
// URLSessionDelegate and cellular policy (`allowsCellularAccess`, `allowsConstrainedNetworkAccess`
// on the session configuration) apply. The phone library has no HTTP client of its own:
//
//     let catalogue = try CatalogueClient(baseUrl: url, apiKey: key, transport: URLSessionTransport())
//
// `send` runs on one of the library's worker threads (the async calls) or on the caller's
// thread (the blocking ones, never to be called on the main thread); it blocks until the answer
// is there.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let session: URLSession

    public init(session: URLSession = .shared) {
        self.session = session
    }

    /// The completion handler's result, handed from URLSession's queue to the waiting thread.
    private final class Outcome: @unchecked Sendable {
        var value: Result<(Data, HTTPURLResponse), Error> = .failure(URLError(.unknown))
    }

    public func send(request: HttpRequest) throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw ShopLookError.BadRequest(status: 0, detail: "not a URL: \(request.url)")
        }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        r.timeoutInterval = max(Double(request.timeoutMs) / 1000, 0.001)
        for h in request.headers { r.setValue(h.value, forHTTPHeaderField: h.name) }
        if !request.body.isEmpty { r.httpBody = request.body }

        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        let task = session.dataTask(with: r) { data, response, error in
            if let error {
                outcome.value = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                outcome.value = .success((data ?? Data(), http))
            } else {
                outcome.value = .failure(URLError(.badServerResponse))
            }
            done.signal()
        }
        task.resume()
        done.wait()

        switch outcome.value {
        case .failure(let error):
            throw ShopLookError.Offline(detail: "\(error)")
        case .success(let (data, http)):
            let headers = http.allHeaderFields.map { HttpHeader(name: "\($0.key)", value: "\($0.value)") }
            return HttpResponse(status: UInt16(clamping: http.statusCode), headers: headers, body: data)
        }
    }
}
