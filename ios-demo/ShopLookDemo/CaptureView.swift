// Camera preview with a shutter (AVFoundation), and the photo library (PhotosPicker).
import AVFoundation
import PhotosUI
import SwiftUI

struct CaptureView: View {
    let onPhoto: (Data) -> Void
    let onSettings: () -> Void
    var onLive: () -> Void = {}
    @StateObject private var camera = Camera()
    @State private var picked: PhotosPickerItem?

    var body: some View {
        ZStack(alignment: .bottom) {
            if camera.authorized {
                CameraPreview(session: camera.session).ignoresSafeArea()
            } else {
                Text("Allow the camera in Settings to take a photo, or pick one from your library.")
                    .foregroundColor(.white).multilineTextAlignment(.center).padding(32)
                    .frame(maxWidth: .infinity, maxHeight: .infinity)
            }
            HStack {
                PhotosPicker(selection: $picked, matching: .images) { Text("Library") }
                    .buttonStyle(.bordered).tint(.white)
                Spacer()
                Button { camera.capture(onPhoto) } label: {
                    Circle().fill(.white).frame(width: 72, height: 72)
                }
                .disabled(!camera.authorized)
                .accessibilityLabel("Take photo")
                Spacer()
                Button("Settings", action: onSettings).buttonStyle(.bordered).tint(.white)
            }
            .padding(24)
            // The live viewfinder: boxes follow objects before any shutter press.
            Button("Live", action: onLive).buttonStyle(.bordered).tint(.white)
                .frame(maxWidth: .infinity, maxHeight: .infinity, alignment: .topTrailing).padding(24)
        }
        .task { await camera.start() }
        .onDisappear { camera.stop() }
        .onChange(of: picked) { item in
            guard let item else { return }
            Task {
                let data = (try? await item.loadTransferable(type: Data.self)) ?? Data()
                onPhoto(data)   // empty: the "can't be read" message
            }
        }
    }
}

/// The capture session; JPEG photos (the core decodes JPEG/PNG/WebP, not HEIC) with their EXIF orientation.
@MainActor
final class Camera: NSObject, ObservableObject, AVCapturePhotoCaptureDelegate {
    let session = AVCaptureSession()
    @Published var authorized = false
    private let output = AVCapturePhotoOutput()
    private let queue = DispatchQueue(label: "camera")
    private var configured = false
    private var pending: ((Data) -> Void)?

    func start() async {
        authorized = await AVCaptureDevice.requestAccess(for: .video)
        guard authorized else { return }
        let session = self.session, output = self.output, configure = !configured
        configured = true
        queue.async {
            if configure {
                session.beginConfiguration()
                session.sessionPreset = .photo
                if let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back),
                   let input = try? AVCaptureDeviceInput(device: device), session.canAddInput(input) {
                    session.addInput(input)
                }
                if session.canAddOutput(output) { session.addOutput(output) }
                session.commitConfiguration()
            }
            session.startRunning()
        }
    }

    func stop() {
        let session = self.session
        queue.async { session.stopRunning() }
    }

    func capture(_ done: @escaping (Data) -> Void) {
        pending = done
        let settings = AVCapturePhotoSettings(format: [AVVideoCodecKey: AVVideoCodecType.jpeg])
        if let connection = output.connection(with: .video), let angle = Camera.interfaceRotation() {
            connection.videoOrientation = angle
        }
        output.capturePhoto(with: settings, delegate: self)
    }

    nonisolated func photoOutput(_ output: AVCapturePhotoOutput, didFinishProcessingPhoto photo: AVCapturePhoto, error: Error?) {
        let data = photo.fileDataRepresentation() ?? Data()
        Task { @MainActor in
            self.pending?(data)
            self.pending = nil
        }
    }

    /// The photo's orientation follows the device's, as the Camera app does.
    private static func interfaceRotation() -> AVCaptureVideoOrientation? {
        switch UIDevice.current.orientation {
        case .portrait: return .portrait
        case .portraitUpsideDown: return .portraitUpsideDown
        case .landscapeLeft: return .landscapeRight
        case .landscapeRight: return .landscapeLeft
        default: return nil
        }
    }
}

struct CameraPreview: UIViewRepresentable {
    let session: AVCaptureSession

    final class PreviewView: UIView {
        override class var layerClass: AnyClass { AVCaptureVideoPreviewLayer.self }
        var previewLayer: AVCaptureVideoPreviewLayer { layer as! AVCaptureVideoPreviewLayer }
    }

    func makeUIView(context: Context) -> PreviewView {
        let view = PreviewView()
        view.previewLayer.session = session
        view.previewLayer.videoGravity = .resizeAspectFill
        return view
    }

    func updateUIView(_ uiView: PreviewView, context: Context) {}
}
