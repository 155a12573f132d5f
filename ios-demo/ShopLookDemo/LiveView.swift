// The live viewfinder (thin: every decision is ShopLookDemoCore's LiveViewfinder, host-tested).
// AVCaptureVideoDataOutput hands NV12 (420f) CVPixelBuffers to the viewfinder on its own queue;
// AVCaptureVideoPreviewLayer (.resizeAspectFill) shows the same session, so the boxes, laid out
// for that gravity, sit on what the preview shows. A tap on a box freezes the picture (the last
// frame, kept as a CGImage) and opens the product sheet; closing it resumes.
import AVFoundation
import CoreImage
import ShopLook
import ShopLookDemoCore
import SwiftUI
import UIKit

@MainActor
final class LiveModel: ObservableObject {
    @Published private(set) var state: LiveState = .starting
    @Published private(set) var frozenImage: CGImage?
    let viewfinder: LiveViewfinder
    let camera: LiveCamera

    init(engine: @escaping () async throws -> ShopLook, lookup: DemoController) {
        // The engine is loaded by DemoModel; the tracker is made on the viewfinder's worker queue.
        let shop = EngineBox(engine)
        viewfinder = LiveViewfinder(tracker: { try Tracker(shoplook: try shop.get(), options: TrackerOptions()) }, lookup: lookup)
        camera = LiveCamera(viewfinder: viewfinder)
        viewfinder.onChange = { [weak self] _ in
            DispatchQueue.main.async { if let self { self.state = self.viewfinder.state } }
        }
        Task.detached { _ = try? await shop.load(); await MainActor.run { self.viewfinder.prepare() } }
    }

    func tap(_ p: CGPoint) {
        let image = camera.snapshot()
        if viewfinder.tap(Float(p.x), Float(p.y), slop: 22) != nil { frozenImage = image }
    }

    func resume() {
        frozenImage = nil
        viewfinder.resume()
    }
}

/// The engine, awaited once off the main thread, then handed to the tracker factory.
final class EngineBox: @unchecked Sendable {
    private let load_: () async throws -> ShopLook
    private var shop: ShopLook?
    private let lock = NSLock()
    init(_ load: @escaping () async throws -> ShopLook) { load_ = load }
    func load() async throws -> ShopLook {
        let s = try await load_()
        lock.lock(); shop = s; lock.unlock()
        return s
    }
    func get() throws -> ShopLook {
        lock.lock(); defer { lock.unlock() }
        guard let shop else { throw ShopLookError.Internal(detail: "the engine is still loading") }
        return shop
    }
}

/// The capture session for the viewfinder: back camera, 4:3 preset shared by the preview and the
/// video output, NV12 full-range buffers, late frames discarded.
final class LiveCamera: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate, @unchecked Sendable {
    let session = AVCaptureSession()
    private let output = AVCaptureVideoDataOutput()
    private let queue = DispatchQueue(label: "shoplook.live.camera")
    private let viewfinder: LiveViewfinder
    private var configured = false
    private let lock = NSLock()
    private var last: CVPixelBuffer?
    private var lastRotation = 90
    private let context = CIContext()

    private var rotationNow = 90

    init(viewfinder: LiveViewfinder) {
        self.viewfinder = viewfinder
        super.init()
        // The device's orientation is read on the main thread; the capture queue reads the copy.
        UIDevice.current.beginGeneratingDeviceOrientationNotifications()
        NotificationCenter.default.addObserver(forName: UIDevice.orientationDidChangeNotification, object: nil,
                                               queue: .main) { [weak self] _ in
            guard let self else { return }
            let r = LiveCamera.rotation()
            self.lock.lock(); self.rotationNow = r; self.lock.unlock()
        }
    }

    func start() async {
        guard await AVCaptureDevice.requestAccess(for: .video) else { return }
        queue.async { [self] in
            if !configured {
                configured = true
                session.beginConfiguration()
                session.sessionPreset = .vga640x480   // 4:3, small: the tracker works at 640 px anyway
                if let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back),
                   let input = try? AVCaptureDeviceInput(device: device), session.canAddInput(input) {
                    session.addInput(input)
                }
                output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_420YpCbCr8BiPlanarFullRange]
                output.alwaysDiscardsLateVideoFrames = true
                output.setSampleBufferDelegate(self, queue: queue)
                if session.canAddOutput(output) { session.addOutput(output) }
                session.commitConfiguration()
            }
            session.startRunning()
        }
    }

    func stop() { queue.async { [session] in session.stopRunning() } }

    /// The clockwise turn that makes the (landscape) sensor buffer upright for the device's orientation.
    private static func rotation() -> Int {   // main thread (UIDevice)
        switch UIDevice.current.orientation {
        case .portraitUpsideDown: return 270
        case .landscapeLeft: return 0
        case .landscapeRight: return 180
        default: return 90
        }
    }

    nonisolated func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) else { return }
        let ts = CMTimeGetSeconds(CMSampleBufferGetPresentationTimeStamp(sampleBuffer)) * 1000
        lock.lock(); let rotation = rotationNow; last = buffer; lastRotation = rotation; lock.unlock()
        let frame = CameraFrame(width: CVPixelBufferGetWidth(buffer), height: CVPixelBufferGetHeight(buffer),
                                rotationDegrees: rotation, timestampMs: ts) {
            // Called inside offer, only when a detection is due: both planes as they are, with their strides.
            CVPixelBufferLockBaseAddress(buffer, .readOnly)
            defer { CVPixelBufferUnlockBaseAddress(buffer, .readOnly) }
            guard CVPixelBufferGetPlaneCount(buffer) == 2,
                  let y = CVPixelBufferGetBaseAddressOfPlane(buffer, 0),
                  let uv = CVPixelBufferGetBaseAddressOfPlane(buffer, 1) else {
                throw ShopLookError.CorruptImage(detail: "not a bi-planar pixel buffer")
            }
            let ys = CVPixelBufferGetBytesPerRowOfPlane(buffer, 0), uvs = CVPixelBufferGetBytesPerRowOfPlane(buffer, 1)
            return .semiPlanar(y: Data(bytes: y, count: ys * CVPixelBufferGetHeightOfPlane(buffer, 0)), yRowStride: ys,
                               uv: Data(bytes: uv, count: uvs * CVPixelBufferGetHeightOfPlane(buffer, 1)), uvRowStride: uvs,
                               vFirst: false, fullRange: true)
        }
        viewfinder.offer(frame)
    }

    /// The last camera frame, upright, for the frozen picture.
    func snapshot() -> CGImage? {
        lock.lock(); let buffer = last, rotation = lastRotation; lock.unlock()
        guard let buffer else { return nil }
        let orientation: CGImagePropertyOrientation = [0: .up, 90: .right, 180: .down, 270: .left][rotation] ?? .right
        let image = CIImage(cvPixelBuffer: buffer).oriented(orientation)
        return context.createCGImage(image, from: image.extent)
    }
}

struct LiveView: View {
    @ObservedObject var model: LiveModel
    let onClose: () -> Void
    let onSettings: () -> Void

    var body: some View {
        GeometryReader { geo in
            ZStack {
                CameraPreview(session: model.camera.session)
                if let image = model.frozenImage {
                    // Aspect fill, centred: what the preview layer showed.
                    Image(decorative: image, scale: 1).resizable().aspectRatio(contentMode: .fill)
                        .frame(width: geo.size.width, height: geo.size.height).clipped()
                }
                Canvas { ctx, _ in
                    let boxes = model.state.frame?.boxes ?? []
                    for b in boxes {
                        let r = CGRect(x: CGFloat(b.rect.left), y: CGFloat(b.rect.top), width: CGFloat(b.rect.width), height: CGFloat(b.rect.height))
                        let selected = model.state.selected?.trackId == b.trackId
                        let color = LiveView.color(b.trackId ?? 0)
                        ctx.stroke(Path(r), with: .color(color), lineWidth: selected ? 5 : 2.5)
                        ctx.draw(Text(b.caption).font(.caption).foregroundColor(.black),
                                 at: CGPoint(x: r.minX + 4, y: max(r.minY - 8, 8)), anchor: .leading)
                    }
                }
                .contentShape(Rectangle())
                .onTapGesture(coordinateSpace: .local) { p in model.tap(p) }
                VStack {
                    HStack {
                        Button("Photo", action: onClose).buttonStyle(.bordered).tint(.white)
                        Spacer()
                        Button("Settings", action: onSettings).buttonStyle(.bordered).tint(.white)
                    }
                    Spacer()
                    if let notice = model.state.notice {
                        Text(notice.title).foregroundColor(.white).padding(12).background(Color.black.opacity(0.6))
                    } else if case .running = model.state {
                        Text("Tap a box to find it in the catalogue.").foregroundColor(.white).padding(12).background(Color.black.opacity(0.6))
                    }
                }
                .padding()
            }
            .onAppear { model.viewfinder.setView(width: Float(geo.size.width), height: Float(geo.size.height)) }
            .onChange(of: geo.size) { s in model.viewfinder.setView(width: Float(s.width), height: Float(s.height)) }
        }
        .ignoresSafeArea()
        .task { await model.camera.start() }
        .onDisappear { model.camera.stop() }
        .sheet(isPresented: Binding(get: { model.state.sheet != nil }, set: { if !$0 { model.resume() } })) {
            if let sheet = model.state.sheet {
                ProductSheetView(sheet: sheet, controller: model.viewfinder)
            }
        }
    }

    /// One colour per track, the same for as long as it is followed.
    static func color(_ id: UInt64) -> Color {
        let palette: [Color] = [.green, .yellow, .cyan, .orange, .pink, .mint, .purple]
        return palette[Int(id % UInt64(palette.count))]
    }
}
